import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../audit/audit-event.js';
import { startTestSlackServer, type FakeSlackMessage, type TestSlackServer } from '../channels/slack/test-slack-server.js';
import { signSlackRequest } from '../channels/slack/verify-slack-signature.js';
import { loadServerConfig, sha256Hex } from '../config/server-config.js';
import { startServer, type RunningServer } from '../start-server.js';
import { client } from '../test-server.js';
import { auditMark, summary } from './attack-helpers.js';

/** Attacks on `/v1/slack/interactions` of a real server talking to a fake Slack workspace. */

const BOT_TOKEN = 'xoxb-1234-5678-attacktest';
const SIGNING_SECRET = 'attack-suite-slack-signing-secret-0123';
const CHANNEL = 'C0APPROVALS';
const AGENT_KEY = 'sk_test_agent_slack_attack_0123';
const ANA_KEY = 'sk_test_ana_slack_attack_01234';
const USERS = { ana: 'U0ANA', sam: 'U0SAM', dev: 'U0DEV', stranger: 'U0STRANGER' } as const;
const POLICY = `version: 1
default: deny
rules:
  - id: big-payments
    tool: payment.send
    action: escalate
    reason: "Payment of {args.amount} to {args.to}"
    metadata: { required_approvals: 2, approver_roles: [finance, security], approval_timeout_minutes: 30 }
`;

let slack: TestSlackServer;
let server: RunningServer;
let directory: string;
let agent: ReturnType<typeof client>;
let interactions: string;

beforeAll(async () => {
  slack = await startTestSlackServer({ token: BOT_TOKEN, channels: [CHANNEL] });
  directory = mkdtempSync(join(tmpdir(), 'signoff-slack-attack-'));
  writeFileSync(join(directory, 'policy.yaml'), POLICY);
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      'policy: policy.yaml',
      'store: sqlite:./signoff.db',
      'listen: 127.0.0.1:0',
      'sweep_interval_seconds: 1',
      'slack:',
      `  bot_token: ${BOT_TOKEN}`,
      '  signing_secret_env: ATTACK_SLACK_SIGNING_SECRET',
      `  channel: ${CHANNEL}`,
      `  api_url: ${slack.apiUrl}`,
      'reviewers:',
      `  - { id: ana, name: Ana Lima, roles: [finance], slack_user_id: ${USERS.ana} }`,
      `  - { id: sam, name: Sam Okafor, roles: [security], slack_user_id: ${USERS.sam} }`,
      `  - { id: dev, name: Dev Patel, roles: [engineering], slack_user_id: ${USERS.dev} }`,
      'api_keys:',
      `  - { name: payments-agent, kind: agent, key_sha256: "${sha256Hex(AGENT_KEY)}" }`,
      `  - { name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex(ANA_KEY)}" }`,
    ].join('\n'),
  );
  server = await startServer(loadServerConfig(join(directory, 'signoff.yaml'), { ATTACK_SLACK_SIGNING_SECRET: SIGNING_SECRET }));
  agent = client(server.url, AGENT_KEY);
  interactions = `${server.url}/v1/slack/interactions`;
});
afterAll(async () => {
  await server?.close();
  await slack?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

let amount = 500;
/** Opens a pending payment (each with its own args) and waits for its Slack message. */
async function escalate(extra: object = {}, args: object = {}): Promise<{ id: string; message: FakeSlackMessage }> {
  const created = await agent('POST', '/v1/approvals', { tool: 'payment.send', args: { to: 'acme', amount: (amount += 1), ...args }, ...extra });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await expect.poll(() => slack.messageFor(id), { timeout: 5_000 }).toBeDefined();
  return { id, message: slack.messageFor(id) as FakeSlackMessage };
}
const click = (message: FakeSlackMessage, userId: string, actionId: 'signoff_approve' | 'signoff_deny', extra: { timestamp?: number; signature?: string; signingSecret?: string; teamId?: string; channelId?: string } = {}) =>
  slack.click({ url: interactions, signingSecret: SIGNING_SECRET, message, userId, actionId, ...extra });
/** Posts a raw interaction body with the given Slack headers. */
const send = async (body: string, headers: Record<string, string>) => {
  const response = await fetch(interactions, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'close', ...headers }, body });
  return { status: response.status, body: await response.text() };
};
const signedHeaders = (body: string, timestamp = Math.floor(Date.now() / 1000)) => ({
  'x-slack-request-timestamp': String(timestamp),
  'x-slack-signature': signSlackRequest(SIGNING_SECRET, String(timestamp), body),
});
const payloadFor = (id: string, userId: string, actionId: string) =>
  new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', user: { id: userId }, actions: [{ action_id: actionId, value: id }] }) }).toString();
const statusOf = async (id: string) => (await agent('GET', `/v1/approvals/${id}`)).body.status as string;

interface SlackCase {
  readonly name: string;
  /** Performs the attack on a fresh pending request; returns the HTTP status Slack's side saw. */
  readonly attack: (target: { id: string; message: FakeSlackMessage }) => Promise<{ status: number }>;
  readonly status: number;
  readonly audit: ReadonlyArray<Record<string, unknown>>;
  /** Whether the targeted request must still be pending afterwards (default true). */
  readonly staysPending?: boolean;
}

const cases: SlackCase[] = [
  {
    name: 'forged signature (signed with another secret) → 401, access.refused',
    attack: ({ message }) => click(message, USERS.ana, 'signoff_approve', { signingSecret: 'not-the-signing-secret-0000000000' }),
    status: 401, audit: [{ type: 'access.refused', channel: 'slack', actor: 'unknown', reason: 'X-Slack-Signature does not match the signing secret' }],
  },
  {
    name: 'stale signature (validly signed 10 minutes ago, replayed) → 401, access.refused',
    attack: ({ message }) => click(message, USERS.ana, 'signoff_approve', { timestamp: Math.floor(Date.now() / 1000) - 600 }),
    status: 401, audit: [{ type: 'access.refused', channel: 'slack', reason: expect.stringMatching(/s from now \(more than 300 s\)/) }],
  },
  {
    name: 'signature dated 10 minutes in the future (pre-signed for later replay) → 401, access.refused',
    attack: ({ message }) => click(message, USERS.ana, 'signoff_approve', { timestamp: Math.floor(Date.now() / 1000) + 600 }),
    status: 401, audit: [{ type: 'access.refused', channel: 'slack', reason: expect.stringMatching(/s from now/) }],
  },
  {
    name: 'no signature headers at all → 401, access.refused',
    attack: ({ id }) => send(payloadFor(id, USERS.ana, 'signoff_approve'), {}),
    status: 401, audit: [{ type: 'access.refused', channel: 'slack', reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' }],
  },
  {
    name: 'malformed signature (v1= scheme, short hex) → 401, access.refused',
    attack: ({ id }) => send(payloadFor(id, USERS.ana, 'signoff_approve'), { 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)), 'x-slack-signature': 'v1=deadbeef' }),
    status: 401, audit: [{ type: 'access.refused', channel: 'slack', reason: 'malformed X-Slack-Request-Timestamp or X-Slack-Signature' }],
  },
  {
    name: 'body tampered after signing (a signed deny rewritten into an approve) → 401, access.refused',
    attack: ({ id }) => {
      const signed = payloadFor(id, USERS.ana, 'signoff_deny');
      return send(signed.replace('signoff_deny', 'signoff_approve'), signedHeaders(signed));
    },
    status: 401, audit: [{ type: 'access.refused', channel: 'slack', reason: 'X-Slack-Signature does not match the signing secret' }],
  },
  {
    name: 'oversized interaction body (300 KB) → 413 before the signature is checked (not audited)',
    attack: ({ id }) => send(`${payloadFor(id, USERS.ana, 'signoff_approve')}&pad=${'x'.repeat(300_000)}`, {}),
    status: 413, audit: [],
  },
  {
    name: 'validly signed but malformed payload → 400 (not audited: Slack itself sent garbage)',
    attack: () => {
      const body = 'payload=%7Bnot-json';
      return send(body, signedHeaders(body));
    },
    status: 400, audit: [],
  },
  {
    name: 'a Slack user who is not a reviewer clicks Approve → 200 to Slack, access.refused, not counted',
    attack: ({ message }) => click(message, USERS.stranger, 'signoff_approve'),
    status: 200, audit: [{ type: 'access.refused', channel: 'slack', actor: 'unknown', reason: 'the Slack user is not a configured reviewer' }],
  },
  {
    name: 'wrong role: engineering clicks Approve → 200, decision.refused NOT_AN_APPROVER',
    attack: ({ message }) => click(message, USERS.dev, 'signoff_approve'),
    status: 200, audit: [{ type: 'decision.refused', channel: 'slack', actor: 'dev', code: 'NOT_AN_APPROVER' }],
  },
  {
    name: 'quorum padding via two channels: ana approves by API, then clicks Approve in Slack → decision.refused DUPLICATE_DECISION',
    attack: async ({ id, message }) => {
      expect((await client(server.url, ANA_KEY)('POST', `/v1/approvals/${id}/decision`, { verdict: 'approve' })).status).toBe(200);
      return click(message, USERS.ana, 'signoff_approve');
    },
    status: 200,
    audit: [
      { type: 'decision.recorded', channel: 'api', actor: 'ana' },
      { type: 'decision.refused', channel: 'slack', actor: 'ana', code: 'DUPLICATE_DECISION' },
    ],
  },
  {
    name: 'self-approval in Slack (request made on behalf of ana) → decision.refused SELF_APPROVAL',
    attack: async () => {
      const own = await escalate({ onBehalfOf: 'ana' });
      return click(own.message, USERS.ana, 'signoff_approve');
    },
    status: 200, audit: [{ type: 'decision.refused', channel: 'slack', actor: 'ana', code: 'SELF_APPROVAL' }],
  },
  {
    name: 'forged button value (another request’s id on this request’s message) → decision.refused MESSAGE_MISMATCH, neither decided',
    attack: async ({ id, message }) => {
      const other = await escalate();
      const forged = structuredClone(message);
      for (const block of forged.blocks) for (const element of block.elements ?? []) if (element.value) element.value = other.id;
      const response = await click(forged, USERS.ana, 'signoff_approve');
      expect(await statusOf(other.id)).toBe('pending');
      expect(await statusOf(id)).toBe('pending');
      return response;
    },
    status: 200, audit: [{ type: 'decision.refused', channel: 'slack', actor: 'ana', code: 'MESSAGE_MISMATCH' }],
  },
  {
    name: 'a validly signed click from another Slack workspace → access.refused, not counted',
    attack: async ({ message }) => click(message, USERS.ana, 'signoff_approve', { teamId: 'T0OTHERTEAM' }),
    status: 200, audit: [{ type: 'access.refused', channel: 'slack', actor: 'unknown' }],
  },
  {
    name: 'a validly signed click from another channel → access.refused, not counted',
    attack: async ({ message }) => click(message, USERS.ana, 'signoff_approve', { channelId: 'C0ELSEWHERE' }),
    status: 200, audit: [{ type: 'access.refused', channel: 'slack', actor: 'unknown' }],
  },
];

describe('attacks on the Slack channel', () => {
  it.each(cases)('$name', async (attackCase) => {
    const target = await escalate();
    const mark = await auditMark(server.store);
    const response = await attackCase.attack(target);
    expect(response.status).toBe(attackCase.status);
    const added = (await mark.added()).filter((entry: AuditEntry) => entry.type !== 'request.created');
    expect(added.map(summary)).toMatchObject(attackCase.audit);
    expect(added).toHaveLength(attackCase.audit.length);
    if (attackCase.staysPending !== false) expect(await statusOf(target.id)).toBe('pending');
  });

  it('XSS and mrkdwn payloads in args are escaped in the Slack message (request.created audited, nothing injected)', async () => {
    const mark = await auditMark(server.store);
    const { id, message } = await escalate({}, { to: '<script>alert(1)</script> <!here> <@U0SAM> <javascript:alert(1)|click>' });
    const shown = JSON.stringify(message.blocks) + message.text;
    expect(shown).not.toContain('<script>');
    expect(shown).not.toContain('<!here>');
    expect(shown).not.toContain('<javascript:');
    expect(shown).toContain('&lt;script&gt;');
    expect((await mark.added()).map(summary)).toMatchObject([{ type: 'request.created', requestId: id }]);
  });
});
