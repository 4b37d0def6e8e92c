import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../audit/audit-chain.js';
import { loadServerConfig, sha256Hex } from '../../config/server-config.js';
import { startServer, type RunningServer } from '../../start-server.js';
import { client } from '../../test-server.js';
import { freePort, startTestMailServer, type TestMailServer } from './test-mail-server.js';

const LINK_SECRET = 'email-link-secret-for-digest-tests-0123456789';
const AGENT_KEY = 'sk_test_agent_digest_012345678';
const POLICY = `version: 1
default: deny
rules:
  - id: refunds
    tool: refund.issue
    action: escalate
    reason: "Refund of {args.amount}"
    metadata: { approver_roles: [finance], approval_timeout_minutes: 30 }
`;

/** A server whose reviewer ana takes a digest every 3 seconds (digest_minutes: 0.05) and bo one mail per request. */
async function startDigestServer(directory: string, smtpPort: number, port: number): Promise<RunningServer> {
  writeFileSync(join(directory, 'policy.yaml'), POLICY);
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      'policy: policy.yaml',
      'store: sqlite:./signoff.db',
      `listen: 127.0.0.1:${port}`,
      `public_url: http://127.0.0.1:${port}`,
      'email:',
      `  smtp_url: smtp://127.0.0.1:${smtpPort}`,
      '  from: Signoff <signoff@example.com>',
      `  link_secret: ${LINK_SECRET}`,
      'reviewers:',
      '  - { id: ana, name: Ana, roles: [finance], email: { address: ana@example.com, digest_minutes: 0.05 } }',
      '  - { id: bo, name: Bo, roles: [finance], email: bo@example.com }',
      'api_keys:',
      `  - { name: refunds-agent, kind: agent, key_sha256: "${sha256Hex(AGENT_KEY)}" }`,
    ].join('\n'),
  );
  return startServer(loadServerConfig(join(directory, 'signoff.yaml')));
}

const recipient = (message: ParsedMail) => (message.to && !Array.isArray(message.to) ? message.to.value[0]?.address : undefined);
const digestsTo = (mail: TestMailServer, address: string) => mail.received.filter((message) => recipient(message) === address && message.headers.has('x-signoff-digest'));
const listedIn = (message: ParsedMail) => String(message.headers.get('x-signoff-digest')).split(' ');

/** Opens a confirm-page link and presses its one button, as a browser would. */
async function follow(link: string): Promise<{ status: number; body: string }> {
  const page = await (await fetch(link)).text();
  const action = /<form method="post" action="([^"]+)">/.exec(page)?.[1];
  if (!action) throw new Error(`no form on the page:\n${page}`);
  const fields = new URLSearchParams();
  for (const [, name, value] of page.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) fields.set(name!, value!);
  const response = await fetch(new URL(action, link), { method: 'POST', body: fields, redirect: 'manual' });
  return { status: response.status, body: await response.text() };
}

describe('email digests over real SMTP', () => {
  let mail: TestMailServer;
  let directory: string;
  let server: RunningServer;
  let port: number;

  beforeAll(async () => {
    mail = await startTestMailServer();
    directory = mkdtempSync(join(tmpdir(), 'signoff-digest-'));
    port = await freePort();
    server = await startDigestServer(directory, mail.port, port);
  });
  afterAll(async () => {
    await server?.close();
    await mail?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('mails a digest reviewer one message per window listing what waits, each with its own links', async () => {
    const agent = client(server.url, AGENT_KEY);
    const ids: string[] = [];
    for (const amount of [110, 120, 130]) ids.push((await agent('POST', '/v1/approvals', { tool: 'refund.issue', args: { order: `o-${amount}`, amount } })).body.id);
    // Bo still gets one mail per request; Ana none of those.
    await expect.poll(() => mail.received.filter((message) => recipient(message) === 'bo@example.com' && ids.includes(String(message.headers.get('x-signoff-approval')))).length, { timeout: 10_000 }).toBe(3);
    await expect.poll(() => new Set(digestsTo(mail, 'ana@example.com').flatMap(listedIn)), { timeout: 15_000 }).toEqual(new Set(ids));
    expect(mail.received.filter((message) => recipient(message) === 'ana@example.com' && message.headers.has('x-signoff-approval'))).toEqual([]);
    // Three requests made within a second fall in at most two windows: at most two messages, not three.
    const digests = digestsTo(mail, 'ana@example.com');
    expect(digests.length).toBeLessThanOrEqual(2);
    const last = digests.at(-1)!;
    expect(last.subject).toMatch(/^\d approvals? waiting for you$/);
    expect(last.text).toContain('Refund of 130');
    // Each listed request has its own single-use links: approve one, deny another.
    const approveLinks = [...(last.text ?? '').matchAll(/Approve: (\S+)/g)].map((match) => match[1]!);
    const denyLinks = [...(last.text ?? '').matchAll(/Deny: +(\S+)/g)].map((match) => match[1]!);
    expect(approveLinks).toHaveLength(listedIn(last).length);
    for (const link of [...approveLinks, ...denyLinks]) expect(last.html).toContain(`href="${link}"`);
    const approved = await follow(approveLinks[0]!);
    expect(approved.status).toBe(200);
    const firstListed = listedIn(last)[0]!;
    expect((await agent('GET', `/v1/approvals/${firstListed}`)).body).toMatchObject({ status: 'approved', decisions: [{ reviewer: 'ana', channel: 'email' }] });
    // The same link again decides nothing: it worked once.
    expect((await fetch(approveLinks[0]!)).status).toBe(409);
    if (denyLinks[1]) {
      expect((await follow(denyLinks[1])).status).toBe(200);
      expect((await agent('GET', `/v1/approvals/${listedIn(last)[1]}`)).body).toMatchObject({ status: 'denied' });
    }
  });

  it('keeps a queued digest across a restart: nothing is lost', async () => {
    const agent = client(server.url, AGENT_KEY);
    const created = await agent('POST', '/v1/approvals', { tool: 'refund.issue', args: { order: 'o-restart', amount: 150 } });
    // Stop before the window closes (the digest is due at the next 3-second boundary), then start again.
    await server.close();
    expect(digestsTo(mail, 'ana@example.com').some((message) => listedIn(message).includes(created.body.id))).toBe(false);
    server = await startDigestServer(directory, mail.port, port);
    await expect.poll(() => digestsTo(mail, 'ana@example.com').filter((message) => listedIn(message).includes(created.body.id)).length, { timeout: 15_000 }).toBe(1);
    expect(verifyAuditChain(await server.store.readAudit())).toBeUndefined();
  });
});
