import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../__fixtures__/server-process.js';
import { startLocalControlPlane, type LocalControlPlane } from '../../local-control-plane.js';
import { startTestOidcProvider, type TestOidcProvider } from './test-oidc-provider.js';

// Debian's Chromium (`.ci/run` installs it). Without it this test is reported as skipped, never passed.
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const writeScreenshot = process.env.SIGNOFF_WRITE_SCREENSHOTS === '1';
const docsImage = (name: string) => fileURLToPath(new URL(`../../../../../docs/${name}`, import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const POLICY = `version: 1
default: deny
rules:
  - id: vendor-payments
    tool: payment.send
    action: escalate
    when: { args.amount: { gt: 1000 } }
    reason: "Payment of {args.amount} {args.currency} to {args.to}"
    metadata: { required_approvals: 1, approver_roles: [finance], approval_timeout_minutes: 30 }
  - id: deploys
    tool: deploy.run
    action: escalate
    metadata: { approver_roles: [finance] }
`;

const title = hasChromium
  ? 'a reviewer signs in at the identity provider’s own pages, decides a request, finds it in History, signs out everywhere, and the old cookie is dead'
  : `SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium) — OpenID Connect sign-in was not tested in a browser`;
if (!hasChromium) console.warn(`inbox OIDC browser test skipped: ${CHROMIUM} not found`);

describe.skipIf(!hasChromium)('inbox sign-in with an OpenID provider, in Chromium', () => {
  let provider: TestOidcProvider | undefined;
  let controlPlane: LocalControlPlane | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await controlPlane?.close();
    await provider?.close();
  });

  it(title, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // The provider is another site (127.0.0.2): its redirect back is a cross-site navigation, as in production.
    provider = await startTestOidcProvider({
      clients: [{ client_id: 'signoff', token_endpoint_auth_method: 'none', redirect_uris: [`${url}/inbox/oidc/callback`], post_logout_redirect_uris: [`${url}/inbox/login`] }],
      accounts: { 'ana.lima': { email: 'ana@example.com' } },
    });
    controlPlane = await startLocalControlPlane({
      policy: POLICY,
      port,
      publicUrl: url,
      reviewers: [
        { id: 'ana', name: 'Ana Lima', roles: ['finance'], email: 'ana@example.com' },
        { id: 'sam', name: 'Sam Okafor', roles: ['finance'] },
      ],
      inbox: { oidc: { issuer: provider.issuer, client_id: 'signoff', label: 'Sign in with Acme SSO' } },
    });
    const ask = (tool: string, args: unknown) =>
      fetch(`${url}/v1/approvals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${controlPlane?.agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool, args, onBehalfOf: 'sam' }),
      }).then((response) => response.json() as Promise<{ id: string }>);
    const payment = await ask('payment.send', { to: 'Acme Robotics GmbH', amount: 4800, currency: 'EUR', memo: 'Invoice INV-2291' });
    const deploy = await ask('deploy.run', { service: 'billing', version: '2.14.0' });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    context.setDefaultTimeout(8_000);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });

    // A deep link from Slack or email: sign in at the provider, land on the request.
    await page.goto(`${url}/inbox/requests/${payment.id}`);
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    await page.waitForURL((where) => where.origin === provider?.issuer);
    await page.locator('input[name="login"]').fill('ana.lima');
    await page.locator('input[name="password"]').fill('anything');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click(); // the provider's consent page
    await page.waitForURL(`${url}/inbox/requests/${payment.id}`);
    expect(await page.locator('header .who').innerText()).toBe('Signed in as Ana Lima (ana)');

    await page.getByLabel('Comment (optional)').fill('Invoice matches the PO.');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${url}/inbox/requests/${payment.id}?recorded=approve`);
    expect(await page.locator('.banner.good').innerText()).toContain('Your approval was recorded. The request is approved');
    // Its audit trail says who decided, through which channel, and why.
    const trail = page.locator('#audit-trail');
    expect(await trail.innerText()).toMatch(/Decision recorded[\s\S]*Ana Lima \(ana\)[\s\S]*inbox[\s\S]*Invoice matches the PO\./);

    // Find it again: the History form, filled in and submitted like any form (no script needed).
    await page.getByRole('link', { name: 'History' }).click();
    await page.getByLabel('Status').selectOption('approved');
    await page.getByLabel('Decided by').selectOption('ana');
    await page.getByLabel('Search').fill('acme');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL((where) => where.pathname === '/inbox/history' && where.searchParams.get('reviewer') === 'ana');
    const rows = page.locator('table.rows tr:not(.head)');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain('payment.send');
    // The pending deploy is found under its own status.
    await page.getByLabel('Status').selectOption('pending');
    await page.getByLabel('Decided by').selectOption('');
    await page.getByLabel('Search').fill('');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL((where) => where.searchParams.get('status') === 'pending');
    expect(await page.locator(`a[href="/inbox/requests/${deploy.id}"]`).count()).toBe(1);
    expect(await page.locator(`a[href="/inbox/requests/${payment.id}"]`).count()).toBe(0);

    // Sign out: here (the session ends on the server) and at the provider (its own sign-out page).
    const before = (await context.cookies(`${url}/inbox`)).filter((cookie) => cookie.name.startsWith('signoff_'));
    expect(before.map((cookie) => cookie.name).sort()).toEqual(['signoff_idt', 'signoff_session']);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((where) => where.origin === provider?.issuer);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${url}/inbox/login`);
    expect(await page.getByRole('link', { name: 'Sign in with Acme SSO' }).count()).toBe(1);

    // Someone who copied the cookie before sign-out gets nothing with it.
    const thief = await browser.newContext();
    await thief.addCookies(before);
    const stolen = await thief.newPage();
    await stolen.goto(`${url}/inbox`);
    expect(new URL(stolen.url()).pathname).toBe('/inbox/login');
    await thief.close();

    // Signing in again goes through the provider anew (its session ended too): the login page shows.
    await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
    await page.waitForURL((where) => where.origin === provider?.issuer);
    expect(await page.locator('input[name="login"]').count()).toBe(1);
    expect(violations).toEqual([]);
  });

  it.skipIf(!hasChromium)('fits the History page and its filters on a phone and a desktop, without sideways scrolling', async () => {
    const plane = await startLocalControlPlane({ policy: POLICY, reviewers: [{ id: 'ana', name: 'Ana Lima', roles: ['finance'] }, { id: 'sam', name: 'Sam Okafor', roles: ['finance'] }], inbox: {} });
    const screens = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const ask = (tool: string, args: unknown) =>
        fetch(`${plane.url}/v1/approvals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${plane.agentKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tool, args, onBehalfOf: 'sam' }),
        }).then((response) => response.json() as Promise<{ id: string }>);
      const paid = await ask('payment.send', { to: 'Acme Robotics GmbH', amount: 4800, currency: 'EUR', memo: 'Invoice INV-2291: robot arm servicing, Q4' });
      const refused = await ask('payment.send', { to: 'Globex Industrial Supplies Ltd', amount: 12_500, currency: 'GBP', memo: 'Deposit, order PO-88121' });
      const deploy = await ask('deploy.run', { service: 'billing', version: '2.14.0' });
      await plane.decide(paid.id, 'ana', 'approve', { comment: 'Matches invoice INV-2291.' });
      await plane.decide(refused.id, 'ana', 'deny', { comment: 'No purchase order on file.' });
      await plane.decide(deploy.id, 'ana', 'approve');

      for (const size of [
        { name: 'phone', width: 390, height: 844 },
        { name: 'desktop', width: 1280, height: 800 },
        { name: 'small phone', width: 320, height: 640 },
      ]) {
        const context = await screens.newContext({ viewport: { width: size.width, height: size.height } });
        context.setDefaultTimeout(8_000);
        const page = await context.newPage();
        await page.goto(`${plane.url}/inbox/login?next=%2Finbox%2Fhistory`);
        await page.getByLabel('Reviewer API key').fill(plane.reviewerKey('ana'));
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(`${plane.url}/inbox/history`);
        await page.getByLabel('Search').fill('invoice');
        await page.getByLabel('Decided by').selectOption('ana');
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.waitForURL((where) => where.searchParams.get('q') === 'invoice');
        expect(await page.locator('table.rows tr:not(.head)').count()).toBe(1);
        const width = await page.evaluate(() => {
          const { document, innerWidth } = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
          return { scrollWidth: document.documentElement.scrollWidth, innerWidth };
        });
        expect(width.scrollWidth, `history at ${size.width} px`).toBeLessThanOrEqual(width.innerWidth);
        const filter = await page.getByRole('button', { name: 'Filter' }).boundingBox();
        expect(filter !== null && filter.x >= 0 && filter.x + filter.width <= size.width).toBe(true);
        if (writeScreenshot && size.width !== 320) {
          await page.goto(`${plane.url}/inbox/history`);
          await page.screenshot({ path: docsImage(`inbox-${size.name}-history.png`), fullPage: true });
        }
        await context.close();
      }
    } finally {
      await screens.close();
      await plane.close();
    }
  });
});
