import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSignoff } from '@signoff/core';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalControlPlane, type LocalControlPlane } from '../../local-control-plane.js';

// Debian's Chromium (`.ci/run` installs it). Without it this test is reported as skipped, never passed.
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
/** The README's screenshot; rewritten only on request, so test runs never touch tracked files. */
const SCREENSHOT = fileURLToPath(new URL('../../../../../docs/inbox.png', import.meta.url));
const writeScreenshot = process.env.SIGNOFF_WRITE_SCREENSHOTS === '1';
const docsImage = (name: string) => fileURLToPath(new URL(`../../../../../docs/${name}`, import.meta.url));

const POLICY = `version: 1
default: deny
rules:
  - id: vendor-payments
    tool: payment.send
    action: escalate
    when: { args.amount: { gt: 1000 } }
    reason: "Payment of {args.amount} {args.currency} to {args.to}"
    metadata: { required_approvals: 1, approver_roles: [finance], approval_timeout_minutes: 30 }
  - tool: payment.send
    action: allow
`;
const PAYMENT = {
  to: 'Acme Robotics GmbH',
  iban: 'DE89 3704 0044 0532 0130 00',
  amount: 4800,
  currency: 'EUR',
  memo: 'Invoice INV-2291: robot arm servicing, Q4',
};

/** The one DOM call the test makes in the page (this package compiles without the DOM lib). */
type BrowserWindow = { getComputedStyle(element: unknown): { backgroundColor: string } };

const title = hasChromium
  ? 'a reviewer signs in, opens the pending request, approves it with a comment, and the waiting agent resumes'
  : `SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium) — the inbox was not tested in a browser`;
if (!hasChromium) console.warn(`inbox browser test skipped: ${CHROMIUM} not found`);

describe.skipIf(!hasChromium)('the web inbox in Chromium', () => {
  let controlPlane: LocalControlPlane | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await controlPlane?.close();
  });

  it(title, async () => {
    controlPlane = await startLocalControlPlane({
      policy: POLICY,
      reviewers: [
        { id: 'ana', name: 'Ana Lima', roles: ['finance'] },
        { id: 'sam', name: 'Sam Okafor', roles: ['finance'] },
      ],
      inbox: {},
    });
    const { url } = controlPlane;
    const signoff = createSignoff({ policy: POLICY, controlPlane: { url, apiKey: controlPlane.agentKey } });
    const authorizing = signoff.authorize('payment.send', PAYMENT, { onBehalfOf: 'sam', context: { agent: 'accounts-payable', run: 'run_8f2c41' } });
    while ((await controlPlane.actionable('ana')).length === 0) await new Promise((resolve) => setTimeout(resolve, 20));

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    // Fail on a missing element well inside the test's own timeout, with playwright's explanation.
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });

    await page.goto(`${url}/inbox`);
    expect(page.url()).toBe(`${url}/inbox/login`);
    await page.getByLabel('Reviewer API key').fill(controlPlane.reviewerKey('ana'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${url}/inbox`);
    const cookies = await context.cookies();
    expect(cookies.find((cookie) => cookie.name === 'signoff_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/inbox' });

    await page.getByRole('link', { name: 'payment.send' }).click();
    await page.waitForURL(/\/inbox\/requests\/apr_/);
    const facts = await page.locator('main').innerText();
    expect(facts).toContain('Payment of 4800 EUR to Acme Robotics GmbH');
    expect(facts).toContain('agent on behalf of sam');
    expect(facts).toContain('"iban": "DE89 3704 0044 0532 0130 00"');
    // The hashed stylesheet applied under the CSP (a blocked style would leave the button unstyled).
    const approve = page.getByRole('button', { name: 'Approve' });
    const backgroundOf = (element: unknown) => (globalThis as unknown as BrowserWindow).getComputedStyle(element).backgroundColor;
    expect(await approve.evaluate(backgroundOf)).toBe('rgb(26, 127, 55)');

    const comment = 'Matches invoice INV-2291; vendor bank details verified.';
    await page.getByLabel('Comment (optional)').fill(comment);
    if (writeScreenshot) {
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
    await approve.click();
    await page.waitForURL(/recorded=approve/);
    // The waiting agent may claim its grant before the redirected page is served: approved, or already executed.
    expect(await page.locator('.banner').innerText()).toMatch(/^Your approval was recorded\. The request is (approved|now executed): Approved by Ana Lima\.$/);

    const authorization = await authorizing;
    expect(authorization).toMatchObject({ granted: true, args: PAYMENT });
    expect(authorization.approval?.decisions).toMatchObject([{ reviewer: 'ana', verdict: 'approve', channel: 'inbox', comment }]);
    expect(violations).toEqual([]);
  });

  it.skipIf(!hasChromium)('shows 116 KB of args whole in a box that scrolls by itself: the tested field on top, the decide forms still below', async () => {
    const plane = await startLocalControlPlane({ policy: POLICY, reviewers: [{ id: 'ana', name: 'Ana Lima', roles: ['finance'] }], inbox: {} });
    const padded = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const created = await fetch(`${plane.url}/v1/approvals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${plane.agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'payment.send', args: { memo: 'x'.repeat(116_000), to: 'mallory', amount: 4800, currency: 'EUR' } }),
      }).then((response) => response.json() as Promise<{ id: string }>);
      const page = await (await padded.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
      await page.goto(`${plane.url}/inbox/requests/${created.id}`);
      await page.getByLabel('Reviewer API key').fill(plane.reviewerKey('ana'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${plane.url}/inbox/requests/${created.id}`);

      const args = page.locator('pre.args').first();
      // The rule tests only the amount: it comes first; the rest follows whole, recipient included.
      const shown = await args.innerText();
      expect(shown.startsWith('{\n  "amount": 4800,\n  "memo": "xxx')).toBe(true);
      expect(shown.endsWith(`${'x'.repeat(100)}",\n  "to": "mallory",\n  "currency": "EUR"\n}`)).toBe(true);
      const box = await args.evaluate((element) => {
        const { scrollHeight, clientHeight } = element as { scrollHeight: number; clientHeight: number };
        return { scrollHeight, clientHeight };
      });
      expect(box.clientHeight).toBeLessThan(900);
      expect(box.scrollHeight).toBeGreaterThan(box.clientHeight * 10);
      // The page itself stays short: the forms follow the box, side by side as before.
      const pageHeight = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document.documentElement.scrollHeight);
      expect(pageHeight).toBeLessThan(3_000);
      const approveForm = await page.getByRole('button', { name: 'Approve' }).boundingBox();
      const denyForm = await page.getByRole('button', { name: 'Deny' }).boundingBox();
      expect(approveForm && denyForm && Math.abs(approveForm.y - denyForm.y) < 200 && approveForm.x < denyForm.x).toBe(true);
    } finally {
      await padded.close();
      await plane.close();
    }
  });
  it.skipIf(!hasChromium)('fits a phone (320 and 390 px) and a desktop: no sideways scrolling, list rows as cards, Approve, Deny, Sign out and time left in view', async () => {
    const plane = await startLocalControlPlane({ policy: POLICY, reviewers: [{ id: 'ana', name: 'Ana Lima', roles: ['finance'] }], inbox: {} });
    const screens = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
    try {
      const ask = (args: unknown) =>
        fetch(`${plane.url}/v1/approvals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${plane.agentKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tool: 'payment.send', args, onBehalfOf: 'sam' }),
        }).then((response) => response.json() as Promise<{ id: string }>);
      // An unbroken 300-character token and a long memo: the usual ways a page grows sideways.
      const request = await ask({ ...PAYMENT, reference: 'R'.repeat(300) });
      await ask({ to: 'Globex Industrial Supplies Ltd', iban: 'GB29 NWBK 6016 1331 9268 19', amount: 12_500, currency: 'GBP', memo: 'Deposit, order PO-88121' });

      type Measure = { scrollWidth: number; innerWidth: number };
      const widths = () => {
        const { document, innerWidth } = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
        return { scrollWidth: document.documentElement.scrollWidth, innerWidth };
      };
      const sizes = [
        { name: 'phone', width: 390, height: 844 },
        { name: 'desktop', width: 1280, height: 800 },
        { name: 'small phone', width: 320, height: 640 },
      ];
      for (const size of sizes) {
        const context = await screens.newContext({ viewport: { width: size.width, height: size.height } });
        context.setDefaultTimeout(8_000);
        const page = await context.newPage();
        await page.goto(`${plane.url}/inbox/login`);
        await page.getByLabel('Reviewer API key').fill(plane.reviewerKey('ana'));
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(`${plane.url}/inbox`);
        /** Visible and wholly inside the viewport's width (scrolled into view first). */
        const inView = async (locator: ReturnType<typeof page.locator>) => {
          await locator.scrollIntoViewIfNeeded();
          const box = await locator.boundingBox();
          return box !== null && box.width > 0 && box.x >= 0 && box.x + box.width <= size.width;
        };

        const list: Measure = await page.evaluate(widths);
        expect(list.scrollWidth, `list at ${size.width} px`).toBeLessThanOrEqual(list.innerWidth);
        expect(await inView(page.getByRole('button', { name: 'Sign out' }))).toBe(true);
        expect(await inView(page.locator('td.time-left').first())).toBe(true);
        const rows = page.locator('table.rows tr:not(.head)');
        expect(await rows.count()).toBe(2);
        // On a phone each row is a card: its cells stack, one under another.
        const cells = await rows.first().locator('td').evaluateAll((elements) => elements.map((element) => (element as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top));
        const stacked = cells.every((top, index) => index === 0 || top > (cells[index - 1] as number));
        expect(stacked, `rows are cards at ${size.width} px`).toBe(size.width < 720);
        if (writeScreenshot && size.width !== 320) await page.screenshot({ path: docsImage(`inbox-${size.name}-list.png`), fullPage: true });

        await page.goto(`${plane.url}/inbox/requests/${request.id}`);
        const detail: Measure = await page.evaluate(widths);
        expect(detail.scrollWidth, `request page at ${size.width} px`).toBeLessThanOrEqual(detail.innerWidth);
        const args = page.locator('pre.args').first();
        expect(await args.evaluate((element) => (element as unknown as { scrollWidth: number; clientWidth: number }).scrollWidth <= (element as unknown as { clientWidth: number }).clientWidth + 1)).toBe(true);
        expect(await page.locator('main').innerText()).toMatch(/left\)/);
        expect(await inView(page.getByRole('button', { name: 'Sign out' }))).toBe(true);
        if (writeScreenshot && size.width !== 320) {
          await page.getByLabel('Comment (optional)').fill('Matches invoice INV-2291; vendor bank details verified.');
          await page.screenshot({ path: docsImage(`inbox-${size.name}.png`), fullPage: true });
        }
        expect(await inView(page.getByRole('button', { name: 'Approve' }))).toBe(true);
        expect(await inView(page.getByRole('button', { name: 'Deny' }))).toBe(true);
        await context.close();
      }
    } finally {
      await screens.close();
      await plane.close();
    }
  });
  it.skipIf(!hasChromium)('keeps open pages live: a new request appears in the list, and a request decided elsewhere shows who decided it, without a reload', async () => {
    const plane = await startLocalControlPlane({
      policy: POLICY,
      reviewers: [
        { id: 'ana', name: 'Ana Lima', roles: ['finance'] },
        { id: 'bo', name: 'Bo Berg', roles: ['finance'] },
      ],
      inbox: {},
    });
    const live = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
    let closed = false;
    try {
      const ask = (args: unknown) =>
        fetch(`${plane.url}/v1/approvals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${plane.agentKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tool: 'payment.send', args }),
        }).then((response) => response.json() as Promise<{ id: string }>);
      const first = await ask({ ...PAYMENT, amount: 4_800 });
      const context = await live.newContext({ viewport: { width: 390, height: 844 } });
      context.setDefaultTimeout(8_000);
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
      });
      await page.goto(`${plane.url}/inbox/login`);
      await page.getByLabel('Reviewer API key').fill(plane.reviewerKey('ana'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${plane.url}/inbox`);
      await page.getByText('Live: this page updates by itself.').waitFor();
      expect(await page.locator('table.rows tr:not(.head)').count()).toBe(1);

      // A new request: the open list shows it, with the amount that sets it apart.
      await ask({ ...PAYMENT, to: 'Globex Ltd', amount: 9_100 });
      await page.getByText('Waiting for you (2)').waitFor();
      expect(await page.locator('.tested').allInnerTexts()).toEqual(expect.arrayContaining(['amount 4800', 'amount 9100']));

      // The request page, open with a comment half typed, while Bo approves it through the API.
      await page.goto(`${plane.url}/inbox/requests/${first.id}`);
      await page.getByText('Live: this page updates by itself.').waitFor();
      await page.getByLabel('Comment (optional)').fill('Checking the invoice…');
      await plane.decide(first.id, 'bo', 'approve', { comment: 'Invoice matches' });
      await page.locator('.banner.outcome').waitFor();
      expect(await page.locator('.banner.outcome').innerText()).toBe('This request is approved: Approved by Bo Berg.');
      expect(await page.locator('main').innerText()).toContain('Invoice matches');
      expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
      expect(page.url()).toBe(`${plane.url}/inbox/requests/${first.id}`);

      // The server stopping ends the stream (and its close does not wait on the open page): the page says to reload.
      await page.goto(`${plane.url}/inbox`);
      await page.getByText('Live: this page updates by itself.').waitFor();
      await plane.close();
      closed = true;
      await page.getByText(/Not live|Reconnecting/).waitFor();
      expect(violations).toEqual([]);
    } finally {
      await live.close();
      if (!closed) await plane.close();
    }
  });

  it.skipIf(!hasChromium)('without JavaScript the pages still decide, and say to reload', async () => {
    const plane = await startLocalControlPlane({ policy: POLICY, reviewers: [{ id: 'ana', name: 'Ana Lima', roles: ['finance'] }], inbox: {} });
    const noScript = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
    try {
      const created = await fetch(`${plane.url}/v1/approvals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${plane.agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'payment.send', args: PAYMENT }),
      }).then((response) => response.json() as Promise<{ id: string }>);
      const page = await (await noScript.newContext({ javaScriptEnabled: false })).newPage();
      await page.goto(`${plane.url}/inbox/requests/${created.id}`);
      await page.getByLabel('Reviewer API key').fill(plane.reviewerKey('ana'));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${plane.url}/inbox/requests/${created.id}`);
      expect(await page.locator('#live-status').innerText()).toBe('This page does not update by itself: reload it to see changes.');
      await page.getByLabel('Comment (optional)').fill('Not this vendor');
      await page.getByRole('button', { name: 'Deny' }).click();
      await page.waitForURL(/recorded=deny/);
      expect(await page.locator('.banner').innerText()).toBe('Your denial was recorded. The request is denied; payment.send will not run.');
      expect(await plane.service.get(created.id)).toMatchObject({ status: 'denied', decisions: [{ reviewer: 'ana', verdict: 'deny', comment: 'Not this vendor' }] });
    } finally {
      await noScript.close();
      await plane.close();
    }
  });
});
