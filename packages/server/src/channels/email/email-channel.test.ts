import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignoffError } from '@signoff/core';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig, sha256Hex } from '../../config/server-config.js';
import { startServer, type RunningServer } from '../../start-server.js';
import { client } from '../../test-server.js';
import { signEmailToken } from './email-token.js';
import { freePort, startRefusingPort, startTestMailServer, type TestMailServer } from './test-mail-server.js';

const LINK_SECRET = 'email-link-secret-for-tests-0123456789abcdef';
const AGENT_KEY = 'sk_test_agent_email_0123456789';
const POLICY = `version: 1
default: deny
rules:
  - id: big-payments
    tool: payment.send
    action: escalate
    reason: "Payment of {args.amount} to {args.to}"
    metadata: { required_approvals: 2, approver_roles: [finance, security], approval_timeout_minutes: 30 }
  - id: quick-deploys
    tool: deploy.run
    action: escalate
    metadata: { approver_roles: [finance], approval_timeout_minutes: 0.03 }
`;

type Signoff = RunningServer & { cleanup(): Promise<void> };

/** A server from a real config file: finance ana/bo (bo owns the agent), security sam, engineering dev, finance nomail. */
async function startEmailServer(options: { smtpPort: number; extraEmail?: string }): Promise<Signoff> {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-email-'));
  const port = await freePort();
  writeFileSync(join(directory, 'policy.yaml'), POLICY);
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      'policy: policy.yaml',
      'store: sqlite:./signoff.db',
      `listen: 127.0.0.1:${port}`,
      `public_url: http://127.0.0.1:${port}`,
      'sweep_interval_seconds: 0.2',
      'email:',
      `  smtp_url: smtp://127.0.0.1:${options.smtpPort}`,
      '  from: Signoff <signoff@example.com>',
      `  link_secret: ${LINK_SECRET}`,
      ...(options.extraEmail ? [options.extraEmail] : []),
      'reviewers:',
      '  - { id: ana, name: Ana, roles: [finance], email: ana@example.com }',
      '  - { id: bo, name: Bo, roles: [finance], email: bo@example.com }',
      '  - { id: sam, name: Sam, roles: [security], email: sam@example.com }',
      '  - { id: dev, name: Dev, roles: [engineering], email: dev@example.com }',
      '  - { id: nomail, name: No Mail, roles: [finance] }',
      'api_keys:',
      `  - { name: payments-agent, kind: agent, key_sha256: "${sha256Hex(AGENT_KEY)}", owners: [bo] }`,
    ].join('\n'),
  );
  const server = await startServer(loadServerConfig(join(directory, 'signoff.yaml')));
  return {
    ...server,
    async cleanup() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The mails about one request, by recipient address. */
const mailsAbout = (mail: TestMailServer, requestId: string): Map<string, ParsedMail> =>
  new Map(mail.received.filter((message) => message.headers.get('x-signoff-approval') === requestId).map((message) => [message.to && !Array.isArray(message.to) ? message.to.value[0]!.address! : '', message]));

/** The Approve and Deny URLs of a mail, from its text part (and checked against its HTML part). */
function linksIn(message: ParsedMail): { approve: string; deny: string } {
  const approve = /^Approve: (\S+)$/m.exec(message.text ?? '')?.[1];
  const deny = /^Deny: +(\S+)$/m.exec(message.text ?? '')?.[1];
  if (!approve || !deny) throw new Error(`no links in mail:\n${message.text}`);
  expect(message.html).toContain(`href="${approve}"`);
  expect(message.html).toContain(`href="${deny}"`);
  return { approve, deny };
}

interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

const open = async (url: string): Promise<Page> => {
  const response = await fetch(url, { redirect: 'manual' });
  return { url, status: response.status, headers: response.headers, body: await response.text() };
};

/** Presses the page's one button: POSTs its form fields to its action, as a browser would. */
async function press(page: Page, change: (fields: URLSearchParams) => void = () => {}): Promise<Page> {
  const action = /<form method="post" action="([^"]+)">/.exec(page.body)?.[1];
  if (!action) throw new Error(`no form on the page:\n${page.body}`);
  const fields = new URLSearchParams();
  for (const [, name, value] of page.body.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) fields.set(name!, value!);
  change(fields);
  return post(new URL(action, page.url).toString(), fields);
}

async function post(url: string, fields: URLSearchParams): Promise<Page> {
  const response = await fetch(url, { method: 'POST', body: fields, redirect: 'manual' });
  return { url, status: response.status, headers: response.headers, body: await response.text() };
}

const tokenOf = (link: string) => new URL(link).searchParams.get('token') as string;

describe('email approvals over real SMTP', () => {
  let mail: TestMailServer;
  let signoff: Signoff;
  let agent: ReturnType<typeof client>;

  beforeAll(async () => {
    mail = await startTestMailServer();
    signoff = await startEmailServer({ smtpPort: mail.port, extraEmail: '  link_ttl_minutes: 10' });
    agent = client(signoff.url, AGENT_KEY);
  });
  afterAll(async () => {
    await signoff?.cleanup();
    await mail?.close();
  });

  const escalate = async (args: object, tool = 'payment.send') => {
    const created = await agent('POST', '/v1/approvals', { tool, args });
    expect(created.body).toMatchObject({ status: 'pending' });
    return created.body as { id: string };
  };
  const statusOf = async (id: string) => (await agent('GET', `/v1/approvals/${id}`)).body;
  const auditFor = async (id?: string) => (await signoff.store.readAudit()).filter((entry) => id === undefined || entry.requestId === id);

  it('mails each eligible reviewer (not the agent owner, not other roles) text and HTML with both links', async () => {
    const request = await escalate({ to: 'acme', amount: 500 });
    await expect.poll(() => mailsAbout(mail, request.id).size, { timeout: 5_000 }).toBe(2);
    const mails = mailsAbout(mail, request.id);
    expect([...mails.keys()].sort()).toEqual(['ana@example.com', 'sam@example.com']); // bo owns the agent; dev is engineering; nomail has no address
    const message = mails.get('ana@example.com')!;
    expect(message.subject).toBe('Approval needed: payment.send');
    expect(message.from?.value).toEqual([{ name: 'Signoff', address: 'signoff@example.com' }]);
    expect(message.text).toContain('Reason: Payment of 500 to acme');
    expect(message.text).toContain('2 approvals, covering every role: finance, security');
    expect(message.html).toContain('Payment of 500 to acme');
    const { approve, deny } = linksIn(message);
    expect(approve).toMatch(new RegExp(`^${signoff.url}/email/decide\\?token=[\\w-]+\\.[\\w-]{43}$`));
    expect(tokenOf(approve)).not.toBe(tokenOf(deny));
    // link_ttl_minutes: 10 caps the links well before the 30-minute deadline
    const claims = JSON.parse(Buffer.from(tokenOf(approve).split('.')[0]!, 'base64url').toString());
    expect(claims).toMatchObject({ approvalId: request.id, reviewerId: 'ana', verdict: 'approve' });
    expect(claims.exp * 1000 - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(claims.exp * 1000 - Date.now()).toBeLessThanOrEqual(10 * 60_000 + 1_000);
  });

  it('GET shows a confirm page and changes nothing; POST approves; quorum approves with channel email in the audit', async () => {
    const request = await escalate({ to: 'acme', amount: 700 });
    await expect.poll(() => mailsAbout(mail, request.id).size, { timeout: 5_000 }).toBe(2);
    const mails = mailsAbout(mail, request.id);
    const auditBefore = (await auditFor()).length;

    const page = await open(linksIn(mails.get('ana@example.com')!).approve);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Approve <code>payment.send</code>?');
    expect(page.body).toContain('Payment of 500 to acme'.replace('500', '700'));
    expect(page.body).toContain('2 approvals, covering every role: finance, security');
    expect(page.body).toMatch(/\(2\d minutes left\)/);
    expect(page.body.match(/<button/g)).toHaveLength(1);
    expect(page.body).not.toMatch(/<script/i);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[\w+/=]+'; form-action 'self'; frame-ancestors 'none'/);
    await open(page.url); // a scanner prefetching twice
    expect(await statusOf(request.id)).toMatchObject({ status: 'pending', decisions: [] });
    expect((await auditFor()).length).toBe(auditBefore);

    const first = await press(page);
    expect(first.status).toBe(200);
    expect(first.body).toContain('Your approval was recorded. Waiting for 1 more approval(s).');
    expect(await statusOf(request.id)).toMatchObject({ status: 'pending', decisions: [{ reviewer: 'ana', verdict: 'approve', channel: 'email' }] });

    const second = await press(await open(linksIn(mails.get('sam@example.com')!).approve), (fields) => fields.set('comment', 'ok by security'));
    expect(second.status).toBe(200);
    expect(second.body).toContain('The request is approved: Approved by Ana, Sam.');
    expect(await statusOf(request.id)).toMatchObject({ status: 'approved', granted: true, decisions: [{ channel: 'email' }, { reviewer: 'sam', channel: 'email', comment: 'ok by security' }] });
    const audit = await auditFor(request.id);
    expect(audit.filter((entry) => entry.type === 'decision.recorded').map((entry) => [entry.actor, entry.channel])).toEqual([['ana', 'email'], ['sam', 'email']]);
    expect(audit.find((entry) => entry.type === 'request.approved')).toMatchObject({ actor: 'sam', channel: 'email' });

    // Replay: the same link, pressed again, is refused.
    const replay = await press(page);
    expect(replay.status).toBe(409);
    expect(replay.body).toContain('Already decided');
    expect((await open(page.url)).body).toContain('This request is already approved');
  });

  it('refuses a replayed token while the request is still pending', async () => {
    const request = await escalate({ to: 'acme', amount: 800 });
    await expect.poll(() => mailsAbout(mail, request.id).size, { timeout: 5_000 }).toBe(2);
    const page = await open(linksIn(mailsAbout(mail, request.id).get('ana@example.com')!).approve);
    expect((await press(page)).status).toBe(200);
    const replay = await press(page);
    expect(replay.status).toBe(409);
    expect(replay.body).toContain('This link was already used');
    expect(await statusOf(request.id)).toMatchObject({ status: 'pending', decisions: [{ reviewer: 'ana' }] });
    expect((await auditFor(request.id)).filter((entry) => entry.type === 'decision.refused')).toMatchObject([{ actor: 'ana', channel: 'email' }]);
  });

  it('refuses an altered token with a 400 page and an audit entry, and forged or foreign tokens too', async () => {
    const request = await escalate({ to: 'acme', amount: 900 });
    await expect.poll(() => mailsAbout(mail, request.id).size, { timeout: 5_000 }).toBe(2);
    const page = await open(linksIn(mailsAbout(mail, request.id).get('ana@example.com')!).approve);
    const token = tokenOf(page.url);
    const altered = token.slice(0, 10) + (token[10] === 'x' ? 'y' : 'x') + token.slice(11);

    const shown = await open(`${signoff.url}/email/decide?token=${altered}`);
    expect(shown.status).toBe(400);
    expect(shown.body).toContain('This link is not valid');
    expect(shown.body).not.toContain('<form');

    const refusalsBefore = (await auditFor()).filter((entry) => entry.type === 'access.refused').length;
    const pressed = await press(page, (fields) => fields.set('token', altered));
    expect(pressed.status).toBe(400);
    expect(pressed.body).toContain('altered');
    const refusals = (await auditFor()).filter((entry) => entry.type === 'access.refused');
    expect(refusals.length).toBe(refusalsBefore + 1);
    expect(refusals.at(-1)).toMatchObject({ actor: 'unknown', channel: 'email', detail: { reason: 'invalid or altered email link token' } });

    const exp = Math.floor(Date.now() / 1000) + 600;
    const foreign = signEmailToken({ approvalId: request.id, reviewerId: 'ana', verdict: 'approve', exp }, 'some-other-servers-secret-0123456789abcdef');
    expect((await post(`${signoff.url}/email/decide`, new URLSearchParams({ token: foreign }))).status).toBe(400);
    const unknown = signEmailToken({ approvalId: 'apr_doesnotexist0000000', reviewerId: 'ana', verdict: 'approve', exp }, LINK_SECRET);
    const missing = await post(`${signoff.url}/email/decide`, new URLSearchParams({ token: unknown }));
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('No such request');
    expect((await post(`${signoff.url}/email/decide`, new URLSearchParams())).status).toBe(400);
    expect(await statusOf(request.id)).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('refuses a POST whose args differ from the ones the page showed', async () => {
    const request = await escalate({ to: 'acme', amount: 950 });
    await expect.poll(() => mailsAbout(mail, request.id).size, { timeout: 5_000 }).toBe(2);
    const page = await open(linksIn(mailsAbout(mail, request.id).get('ana@example.com')!).approve);
    const refused = await press(page, (fields) => fields.delete('argsHash'));
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('The args changed');
    expect(await statusOf(request.id)).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('refuses links once the request deadline passed, with a 410 page', async () => {
    const request = await escalate({ service: 'api' }, 'deploy.run');
    await expect.poll(() => mailsAbout(mail, request.id).size, { timeout: 5_000 }).toBe(1); // finance only: ana (bo owns the agent)
    const page = await open(linksIn(mailsAbout(mail, request.id).get('ana@example.com')!).approve);
    expect(page.status).toBe(200);
    await expect.poll(async () => (await statusOf(request.id)).status, { timeout: 5_000, interval: 200 }).toBe('expired');

    const late = await press(page);
    expect(late.status).toBe(410);
    expect(late.body).toContain('This link has expired');
    expect((await open(page.url)).status).toBe(410);
    expect((await auditFor(request.id)).filter((entry) => entry.type === 'access.refused')).toMatchObject([{ actor: 'ana', channel: 'email', detail: { reason: 'expired email link' } }]);
    expect(await statusOf(request.id)).toMatchObject({ status: 'expired', decisions: [] });
  });

  it('a Deny link vetoes the request', async () => {
    const request = await escalate({ to: 'acme', amount: 1_000 });
    await expect.poll(() => mailsAbout(mail, request.id).size, { timeout: 5_000 }).toBe(2);
    const mails = mailsAbout(mail, request.id);
    const page = await open(linksIn(mails.get('sam@example.com')!).deny);
    expect(page.body).toContain('Deny <code>payment.send</code>?');
    expect(await statusOf(request.id)).toMatchObject({ status: 'pending' });
    const denied = await press(page, (fields) => fields.set('comment', 'not this vendor'));
    expect(denied.status).toBe(200);
    expect(denied.body).toContain('The request is denied');
    expect(await statusOf(request.id)).toMatchObject({ status: 'denied', granted: false, resolution: 'Denied by Sam: not this vendor', decisions: [{ reviewer: 'sam', verdict: 'deny', channel: 'email' }] });
    const anaLink = linksIn(mails.get('ana@example.com')!).approve;
    const shown = await open(anaLink);
    expect(shown.status).toBe(409);
    expect(shown.body).toContain('This request is already denied');
    expect(shown.body).not.toContain('<form');
    const approveLater = await post(`${signoff.url}/email/decide`, new URLSearchParams({ token: tokenOf(anaLink) }));
    expect(approveLater.status).toBe(409);
    expect(await statusOf(request.id)).toMatchObject({ status: 'denied', decisions: [{ reviewer: 'sam' }] });
  });

  it('escapes args in the email HTML and on the confirm page', async () => {
    const payload = '<script>alert(1)</script>';
    const request = await escalate({ to: payload, amount: 500, note: '"><img src=x onerror=alert(2)>' });
    await expect.poll(() => mailsAbout(mail, request.id).size, { timeout: 5_000 }).toBe(2);
    const message = mailsAbout(mail, request.id).get('ana@example.com')!;
    const page = await open(linksIn(message).approve);
    for (const html of [message.html as string, page.body]) {
      expect(html).not.toContain(payload);
      expect(html).not.toContain('<img');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).toContain('Payment of 500 to &lt;script&gt;');
    }
    expect(message.text).toContain(payload); // plain text shows it as it is: it cannot run there
  });
});

describe('email when the SMTP server is down at first', () => {
  it('retries from the outbox and the mail arrives once SMTP is back', async () => {
    const down = await startRefusingPort();
    const signoff = await startEmailServer({ smtpPort: down.port });
    let mail: TestMailServer | undefined;
    try {
      const created = await client(signoff.url, AGENT_KEY)('POST', '/v1/approvals', { tool: 'payment.send', args: { to: 'acme', amount: 500 } });
      await expect.poll(() => down.attempts(), { timeout: 5_000 }).toBeGreaterThanOrEqual(2); // one connection per failed delivery (ana, sam)
      await down.close();
      mail = await startTestMailServer(down.port);
      await expect.poll(() => mailsAbout(mail!, created.body.id).size, { timeout: 10_000 }).toBe(2);
      const page = await open(linksIn(mailsAbout(mail, created.body.id).get('ana@example.com')!).approve);
      expect(page.status).toBe(200);
    } finally {
      await signoff.cleanup();
      await mail?.close();
    }
  });
});

describe('email config', () => {
  const load = (lines: string[], env: NodeJS.ProcessEnv = {}) => {
    const directory = mkdtempSync(join(tmpdir(), 'signoff-email-config-'));
    writeFileSync(join(directory, 'policy.yaml'), POLICY);
    writeFileSync(
      join(directory, 'signoff.yaml'),
      ['policy: policy.yaml', ...lines, 'api_keys:', `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(AGENT_KEY)}" }`].join('\n'),
    );
    try {
      return loadServerConfig(join(directory, 'signoff.yaml'), env);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  };
  const invalid = (lines: string[], env: NodeJS.ProcessEnv = {}): string => {
    try {
      load(lines, env);
    } catch (error) {
      if (SignoffError.isInstance(error) && error.code === 'CONFIG_INVALID') return error.message;
      throw error;
    }
    throw new Error('expected CONFIG_INVALID');
  };

  it('reads secrets from the environment and requires public_url', () => {
    const config = load(
      ['public_url: https://signoff.example.com', 'email:', '  smtp_url_env: SMTP_URL', '  from: signoff@example.com', '  link_secret_env: LINK_SECRET', '  link_ttl_minutes: 60'],
      { SMTP_URL: 'smtp://user:pass@mail.example.com:587', LINK_SECRET },
    );
    expect(config.email).toEqual({
      smtpUrl: 'smtp://user:pass@mail.example.com:587',
      from: 'signoff@example.com',
      linkSecret: LINK_SECRET,
      linkTtlMs: 3_600_000,
      publicUrl: 'https://signoff.example.com',
    });
    expect(load([]).email).toBeUndefined();
    expect(invalid(['email:', '  smtp_url: smtp://h:25', '  from: a@b.c', `  link_secret: ${LINK_SECRET}`])).toMatch(/email needs public_url/);
  });

  it('names each mistake: short secret, both or neither source, unset env, bad from, unknown key', () => {
    const base = ['public_url: https://signoff.example.com', 'email:', '  from: a@b.c'];
    expect(invalid([...base, '  smtp_url: smtp://h:25', '  link_secret: too-short'])).toMatch(/signoff\.yaml:6:16: expected at least 32 bytes/);
    expect(invalid([...base, '  smtp_url: smtp://h:25', '  smtp_url_env: X', `  link_secret: ${LINK_SECRET}`])).toMatch(/exactly one of smtp_url or smtp_url_env/);
    expect(invalid([...base, '  smtp_url: smtp://h:25'])).toMatch(/exactly one of link_secret or link_secret_env/);
    expect(invalid([...base, '  smtp_url: smtp://h:25', '  link_secret_env: LINK_SECRET'], { LINK_SECRET: 'short' })).toMatch(/LINK_SECRET must hold at least 32 bytes/);
    expect(invalid([...base, '  smtp_url: http://h:25', `  link_secret: ${LINK_SECRET}`])).toMatch(/expected smtp:\/\//);
    expect(invalid(['public_url: https://x', 'email:', '  from: nobody', '  smtp_url: smtp://h', `  link_secret: ${LINK_SECRET}`])).toMatch(/expected an address/);
    expect(invalid([...base, '  smtp_url: smtp://h:25', `  link_secret: ${LINK_SECRET}`, '  smtp_password: x'])).toMatch(/unknown email key 'smtp_password'/);
  });
});
