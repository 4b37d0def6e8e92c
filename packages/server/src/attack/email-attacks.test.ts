import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signEmailToken } from '../channels/email/email-token.js';
import { freePort, startTestMailServer, type TestMailServer } from '../channels/email/test-mail-server.js';
import { loadServerConfig, sha256Hex } from '../config/server-config.js';
import { startServer, type RunningServer } from '../start-server.js';
import { client } from '../test-server.js';
import { auditMark, summary } from './attack-helpers.js';

/**
 * Attacks on the email links (`/email/decide`) of a real server with a real SMTP server. The suite
 * knows the link secret only to mint the tokens a real mail would carry (and, expiring or for the
 * wrong people, tokens the server must refuse); forged tokens use other secrets or altered bytes.
 */

const LINK_SECRET = 'email-link-secret-for-attacks-0123456789abcdef';
const AGENT_KEY = 'sk_test_agent_email_attack_0123';
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
    metadata: { approver_roles: [finance], approval_timeout_minutes: 0.01 }
`;

let mail: TestMailServer;
let server: RunningServer;
let directory: string;
let agent: ReturnType<typeof client>;

beforeAll(async () => {
  mail = await startTestMailServer();
  directory = mkdtempSync(join(tmpdir(), 'signoff-email-attack-'));
  const port = await freePort();
  writeFileSync(join(directory, 'policy.yaml'), POLICY);
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      'policy: policy.yaml',
      'store: sqlite:./signoff.db',
      `listen: 127.0.0.1:${port}`,
      `public_url: http://127.0.0.1:${port}`,
      'sweep_interval_seconds: 0.1',
      'email:',
      `  smtp_url: smtp://127.0.0.1:${mail.port}`,
      '  from: Signoff <signoff@example.com>',
      `  link_secret: ${LINK_SECRET}`,
      'reviewers:',
      '  - { id: ana, name: Ana, roles: [finance], email: ana@example.com }',
      '  - { id: bo, name: Bo, roles: [finance], email: bo@example.com }',
      '  - { id: sam, name: Sam, roles: [security], email: sam@example.com }',
      '  - { id: dev, name: Dev, roles: [engineering], email: dev@example.com }',
      'api_keys:',
      // bo owns the agent: approving its requests is self-approval.
      `  - { name: payments-agent, kind: agent, key_sha256: "${sha256Hex(AGENT_KEY)}", owners: [bo] }`,
    ].join('\n'),
  );
  server = await startServer(loadServerConfig(join(directory, 'signoff.yaml')));
  agent = client(server.url, AGENT_KEY);
});
afterAll(async () => {
  await server?.close();
  await mail?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

let amount = 500;
async function pending(tool = 'payment.send', args: object = { to: 'acme', amount: (amount += 1) }): Promise<{ id: string; argsHash: string }> {
  const created = await agent('POST', '/v1/approvals', { tool, args });
  expect(created.body.status).toBe('pending');
  return { id: created.body.id, argsHash: created.body.approvedArgsHash };
}
const inAnHour = () => Math.floor(Date.now() / 1000) + 3_600;
const token = (approvalId: string, reviewerId: string, verdict: 'approve' | 'deny' = 'approve', exp = inAnHour(), secret = LINK_SECRET) =>
  signEmailToken({ approvalId, reviewerId, verdict, exp }, secret);
/** What pressing the confirm page's button sends. */
const press = async (fields: Record<string, string>, query = '') => {
  const response = await fetch(`${server.url}/email/decide${query}`, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
  return { status: response.status, text: await response.text() };
};
const statusOf = async (id: string) => (await agent('GET', `/v1/approvals/${id}`)).body.status as string;

interface EmailCase {
  readonly name: string;
  readonly attack: (target: { id: string; argsHash: string }) => Promise<{ status: number; text: string }>;
  readonly status: number;
  readonly audit: ReadonlyArray<Record<string, unknown>>;
  /** Default: the targeted request is still pending afterwards. */
  readonly targetEnds?: string;
}

const INVALID = 'invalid or altered email link token';
const cases: EmailCase[] = [
  {
    name: 'altered token (a claim byte changed, MAC kept) → 400, access.refused',
    attack: ({ id, argsHash }) => {
      const [claims, mac] = token(id, 'ana').split('.') as [string, string];
      const decoded = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8'));
      const altered = Buffer.from(JSON.stringify({ ...decoded, reviewerId: 'sam' })).toString('base64url');
      return press({ token: `${altered}.${mac}`, argsHash });
    },
    status: 400, audit: [{ type: 'access.refused', channel: 'email', actor: 'unknown', reason: INVALID }],
  },
  {
    name: 'token signed with another secret (forged) → 400, access.refused',
    attack: ({ id, argsHash }) => press({ token: token(id, 'ana', 'approve', inAnHour(), 'attacker-chosen-secret-0123456789abcdef!!'), argsHash }),
    status: 400, audit: [{ type: 'access.refused', channel: 'email', reason: INVALID }],
  },
  {
    name: 'truncated token (cut short when copied) → 400, access.refused',
    attack: ({ id, argsHash }) => press({ token: token(id, 'ana').slice(0, -5), argsHash }),
    status: 400, audit: [{ type: 'access.refused', channel: 'email', reason: INVALID }],
  },
  {
    name: 'token in the URL query instead of the form (link-click CSRF) → 400, access.refused, nothing decided',
    attack: ({ id, argsHash }) => press({ argsHash }, `?token=${token(id, 'ana')}`),
    status: 400, audit: [{ type: 'access.refused', channel: 'email', reason: INVALID }],
  },
  {
    name: 'expired token (exp a minute ago) → 410, access.refused',
    attack: ({ id, argsHash }) => press({ token: token(id, 'ana', 'approve', Math.floor(Date.now() / 1000) - 60), argsHash }),
    status: 410, audit: [{ type: 'access.refused', channel: 'email', actor: 'ana', reason: 'expired email link' }],
  },
  {
    name: 'replayed token (the same approve link pressed twice) → 409, decision.refused DUPLICATE_DECISION',
    attack: async ({ id, argsHash }) => {
      const link = token(id, 'ana');
      expect((await press({ token: link, argsHash })).status).toBe(200);
      return press({ token: link, argsHash });
    },
    status: 409,
    audit: [
      { type: 'decision.recorded', channel: 'email', actor: 'ana' },
      { type: 'decision.refused', channel: 'email', actor: 'ana', code: 'DUPLICATE_DECISION' },
    ],
  },
  {
    name: 'a validly signed token for a reviewer who does not exist → 403, access.refused',
    attack: ({ id, argsHash }) => press({ token: token(id, 'mallory'), argsHash }),
    status: 403, audit: [{ type: 'access.refused', channel: 'email', actor: 'mallory', reason: 'email link for an unknown reviewer' }],
  },
  {
    name: 'path traversal in the token’s approval id (../../etc/passwd) → 404, access.refused',
    attack: ({ argsHash }) => press({ token: token('../../etc/passwd', 'ana'), argsHash }),
    status: 404, audit: [{ type: 'access.refused', channel: 'email', reason: 'email link for an unknown request' }],
  },
  {
    name: "self-approval by email (bo owns the agent) → 403, decision.refused SELF_APPROVAL",
    attack: ({ id, argsHash }) => press({ token: token(id, 'bo'), argsHash }),
    status: 403, audit: [{ type: 'decision.refused', channel: 'email', actor: 'bo', code: 'SELF_APPROVAL' }],
  },
  {
    name: 'wrong role by email (engineering on a finance+security payment) → 403, decision.refused NOT_AN_APPROVER',
    attack: ({ id, argsHash }) => press({ token: token(id, 'dev'), argsHash }),
    status: 403, audit: [{ type: 'decision.refused', channel: 'email', actor: 'dev', code: 'NOT_AN_APPROVER' }],
  },
  {
    name: 'altered argsHash in the form (approve args other than the ones shown) → 409, decision.refused ARGS_CHANGED',
    attack: ({ id }) => press({ token: token(id, 'ana'), argsHash: '0'.repeat(64) }),
    status: 409, audit: [{ type: 'decision.refused', channel: 'email', actor: 'ana', code: 'ARGS_CHANGED' }],
  },
  {
    name: 'a decision after the request expired (valid link) → 410, decision.refused ALREADY_RESOLVED',
    attack: async () => {
      const deploy = await pending('deploy.run', { service: 'api' });
      await expect.poll(() => statusOf(deploy.id), { timeout: 5_000 }).toBe('expired');
      return press({ token: token(deploy.id, 'ana'), argsHash: deploy.argsHash });
    },
    status: 410,
    audit: [{ type: 'decision.refused', channel: 'email', actor: 'ana', code: 'ALREADY_RESOLVED' }],
  },
];

describe('attacks on email links', () => {
  it.each(cases)('$name', async (attackCase) => {
    const target = await pending();
    const mark = await auditMark(server.store);
    const response = await attackCase.attack(target);
    expect(response.status).toBe(attackCase.status);
    // Request lifecycle entries (created, expired by the sweeper) are set-up, not the attack's trace.
    const added = (await mark.added()).filter((entry) => entry.type !== 'request.created' && entry.type !== 'request.expired');
    expect(added.map(summary)).toMatchObject(attackCase.audit);
    expect(added).toHaveLength(attackCase.audit.length);
    expect(await statusOf(target.id)).toBe('pending');
  });

  it('GET on a valid link never decides (mail scanners prefetch it): no decision, nothing audited', async () => {
    const { id } = await pending();
    const mark = await auditMark(server.store);
    const response = await fetch(`${server.url}/email/decide?token=${token(id, 'ana')}`);
    expect(response.status).toBe(200);
    expect(await mark.added()).toEqual([]);
    expect((await agent('GET', `/v1/approvals/${id}`)).body.decisions).toEqual([]);
  });

  it('XSS payloads in args are escaped in the mail and on the confirm page (request.created audited)', async () => {
    const payload = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const mark = await auditMark(server.store);
    const { id } = await pending('payment.send', { to: payload, amount: 900 });
    await expect.poll(() => mail.received.filter((message) => message.headers.get('x-signoff-approval') === id).length, { timeout: 10_000 }).toBeGreaterThan(0);
    const sent = mail.received.filter((message) => message.headers.get('x-signoff-approval') === id);
    for (const message of sent) {
      expect(String(message.html)).not.toContain('<script>alert');
      expect(String(message.html)).not.toContain('<img src=x');
    }
    const page = await (await fetch(`${server.url}/email/decide?token=${token(id, 'ana')}`)).text();
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;script&gt;');
    expect((await mark.added()).map(summary)).toMatchObject([{ type: 'request.created', requestId: id }]);
  });
});
