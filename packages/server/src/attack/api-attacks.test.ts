import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../audit/audit-chain.js';
import { client, startTestServer, TEST_KEYS, type TestResponse } from '../test-server.js';
import { auditMark, summary } from './attack-helpers.js';

/**
 * Attacks on the `/v1` API of a real server (SQLite, fixture policy: payments over 100 need finance
 * AND security; `sams-agent` is owned by reviewer sam; deploys expire after 0.6 s).
 * Each case performs one attack and asserts the refusal and the audit entries it added — or, where
 * the server deliberately refuses before anyone is identified (a 400/404/413), that nothing was audited.
 */

let server: Awaited<ReturnType<typeof startTestServer>>;
const as = (key?: string) => client(server.url, key);
// `ref` keeps each call distinct: an identical call still pending would be folded into the earlier request.
let calls = 0;
const bigPayment = (extra: object = {}) => ({ tool: 'payment.send', args: { to: 'acme', amount: 500, ref: (calls += 1) }, ...extra });

/** Opens a pending big payment as `key` (default the payments agent) and returns its id. */
async function pending(key: string = TEST_KEYS.agent, extra: object = {}): Promise<string> {
  const created = await as(key)('POST', '/v1/approvals', bigPayment(extra));
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('pending');
  return created.body.id as string;
}

/** Sends raw bytes over HTTP/1.1 (for header tricks `fetch` refuses to send) and returns the status. */
function rawRequest(head: string, body = ''): Promise<number> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(`${head}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`));
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0)));
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  // A long sweep interval, so a decision after the deadline meets the request still pending (EXPIRED, not ALREADY_RESOLVED).
  server = await startTestServer({ sweepSeconds: 600, refusalLimits: { audited: 100_000, answered: 1_000_000 } });
});
afterAll(async () => server?.cleanup());

/** What an attack produced: the HTTP answer, and the request it targeted (if any). */
interface Outcome {
  readonly response: TestResponse | { status: number; body?: undefined };
  readonly requestId?: string;
}
interface AttackCase {
  readonly name: string;
  readonly attack: () => Promise<Outcome>;
  readonly status: number;
  /** The `error.code` of the JSON refusal, where there is one. */
  readonly code?: string;
  /** The audit entries the attack must add, in order (matched on type/channel/actor/code/reason); `[]` = deliberately none. */
  readonly audit: ReadonlyArray<Record<string, unknown>>;
  /** What must still hold afterwards (e.g. the request is still pending). */
  readonly after?: (outcome: Outcome) => Promise<void>;
}

const stillPending = async ({ requestId }: Outcome) => {
  expect((await as(TEST_KEYS.ana)('GET', `/v1/approvals/${requestId}`)).body).toMatchObject({ status: 'pending' });
};

const cases: AttackCase[] = [
  // Malformed and oversized bodies.
  {
    name: 'malformed JSON on create → 400 INVALID_JSON (not audited: a parse error, nothing decided)',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('POST', '/v1/approvals', '{"tool":"payment.send","args":{') }),
    status: 400, code: 'INVALID_JSON', audit: [],
  },
  {
    name: 'malformed JSON on a decision → 400 INVALID_JSON, request untouched (not audited)',
    attack: async () => {
      const requestId = await pending();
      return { requestId, response: await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, '{"verdict":"approve"') };
    },
    status: 400, code: 'INVALID_JSON', audit: [], after: stillPending,
  },
  {
    name: 'oversized create body (300 KB > 256 KiB) → 413 BODY_TOO_LARGE (not audited: refused before reading it)',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('POST', '/v1/approvals', bigPayment({ args: { memo: 'x'.repeat(300_000) } }), { connection: 'close' }) }),
    status: 413, code: 'BODY_TOO_LARGE', audit: [],
  },
  {
    name: 'oversized decision body (edited args of 300 KB) → 413, request untouched (not audited)',
    attack: async () => {
      const requestId = await pending();
      const response = await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve', args: { memo: 'x'.repeat(300_000) } }, { connection: 'close' });
      return { requestId, response };
    },
    status: 413, code: 'BODY_TOO_LARGE', audit: [], after: stillPending,
  },
  {
    name: 'oversized body with no key at all → 413 before authentication (not audited)',
    attack: async () => ({ response: await as()('POST', '/v1/approvals', { blob: 'x'.repeat(300_000) }, { connection: 'close' }) }),
    status: 413, code: 'BODY_TOO_LARGE', audit: [],
  },
  // Wrong types and unknown fields.
  {
    name: 'wrong type: tool is a number → 400 naming `tool` (not audited)',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('POST', '/v1/approvals', { tool: 42, args: {} }) }),
    status: 400, code: 'INVALID_REQUEST', audit: [],
  },
  {
    name: 'wrong type: verdict "yes" → 400 naming `verdict`, request untouched (not audited)',
    attack: async () => {
      const requestId = await pending();
      return { requestId, response: await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'yes' }) };
    },
    status: 400, code: 'INVALID_REQUEST', audit: [], after: stillPending,
  },
  {
    name: 'wrong type: a JSON array as the body → 400 (not audited)',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('POST', '/v1/approvals', [bigPayment()]) }),
    status: 400, code: 'INVALID_REQUEST', audit: [],
  },
  {
    name: 'unknown field on create (requiredApprovals: 0) → 400 naming it (not audited)',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('POST', '/v1/approvals', bigPayment({ requiredApprovals: 0 })) }),
    status: 400, code: 'INVALID_REQUEST', audit: [],
  },
  {
    name: 'unknown field on a decision (reviewer: "bo", to decide as someone else) → 400, request untouched (not audited)',
    attack: async () => {
      const requestId = await pending();
      return { requestId, response: await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve', reviewer: 'bo' }) };
    },
    status: 400, code: 'INVALID_REQUEST', audit: [], after: stillPending,
  },
  {
    name: '__proto__ key in the body (prototype pollution) → 400 unknown field (not audited)',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('POST', '/v1/approvals', '{"tool":"payment.send","args":{"amount":500},"__proto__":{"requiredApprovals":0}}') }),
    status: 400, code: 'INVALID_REQUEST', audit: [],
  },
  {
    name: 'unknown query parameter on the list (requester=other-agent) → 400 (not audited)',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('GET', '/v1/approvals?requester=sams-agent') }),
    status: 400, code: 'INVALID_REQUEST', audit: [],
  },
  {
    name: 'wait with timeout=99999 (hold a connection forever) → 400 (not audited)',
    attack: async () => {
      const requestId = await pending();
      return { requestId, response: await as(TEST_KEYS.agent)('GET', `/v1/approvals/${requestId}/wait?timeout=99999`) };
    },
    status: 400, code: 'INVALID_REQUEST', audit: [],
  },
  {
    name: 'callbackUrl on a server without webhooks (SSRF) → 400 CALLBACKS_DISABLED, nothing created (not audited)',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('POST', '/v1/approvals', bigPayment({ callbackUrl: 'http://169.254.169.254/latest/meta-data' })) }),
    status: 400, code: 'CALLBACKS_DISABLED', audit: [],
  },
  {
    name: 'callbackUrl with a file: scheme → 400 naming callbackUrl (not audited)',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('POST', '/v1/approvals', bigPayment({ callbackUrl: 'file:///etc/passwd' })) }),
    status: 400, code: 'INVALID_REQUEST', audit: [],
  },
  // Authentication and header tricks.
  {
    name: 'missing API key → 401, access.refused',
    attack: async () => ({ response: await as()('POST', '/v1/approvals', bigPayment()) }),
    status: 401, code: 'UNAUTHENTICATED',
    audit: [{ type: 'access.refused', channel: 'api', actor: 'unknown', reason: 'missing or malformed Authorization: Bearer <api key>' }],
  },
  {
    name: 'wrong API key → 401, access.refused (unknown API key)',
    attack: async () => ({ response: await as('sk_test_ana_finance_0123456780')('GET', '/v1/approvals') }),
    status: 401, code: 'UNAUTHENTICATED',
    audit: [{ type: 'access.refused', channel: 'api', actor: 'unknown', reason: 'unknown API key' }],
  },
  {
    name: 'right key in the wrong scheme (Basic) → 401, access.refused',
    attack: async () => ({ response: await as()('GET', '/v1/approvals', undefined, { authorization: `Basic ${TEST_KEYS.ana}` }) }),
    status: 401, code: 'UNAUTHENTICATED',
    audit: [{ type: 'access.refused', channel: 'api', reason: 'missing or malformed Authorization: Bearer <api key>' }],
  },
  {
    name: 'header injection: a reviewer key appended after the agent key in one header → 401, access.refused',
    attack: async () => ({ response: await as()('GET', '/v1/approvals', undefined, { authorization: `Bearer ${TEST_KEYS.agent} Bearer ${TEST_KEYS.ana}` }) }),
    status: 401, code: 'UNAUTHENTICATED',
    audit: [{ type: 'access.refused', channel: 'api', reason: 'missing or malformed Authorization: Bearer <api key>' }],
  },
  {
    name: 'header injection: two Authorization headers (agent + smuggled reviewer) on a raw socket → 401, access.refused',
    attack: async () => {
      const requestId = await pending();
      const status = await rawRequest(
        [`POST /v1/approvals/${requestId}/decision HTTP/1.1`, 'host: localhost', 'content-type: application/json', `authorization: Bearer ${TEST_KEYS.agent}`, `authorization: Bearer ${TEST_KEYS.ana}`].join('\r\n'),
        '{"verdict":"approve"}',
      );
      return { requestId, response: { status } };
    },
    status: 401,
    audit: [{ type: 'access.refused', channel: 'api', reason: 'missing or malformed Authorization: Bearer <api key>' }],
    after: stillPending,
  },
  {
    name: 'oversized bearer token (600 chars, hash-flooding) → 401, access.refused',
    attack: async () => ({ response: await as('k'.repeat(600))('GET', '/v1/approvals') }),
    status: 401, code: 'UNAUTHENTICATED',
    audit: [{ type: 'access.refused', channel: 'api', reason: 'missing or malformed Authorization: Bearer <api key>' }],
  },
  {
    name: 'no key on the wait endpoint → 401, access.refused',
    attack: async () => {
      const requestId = await pending();
      return { requestId, response: await as()('GET', `/v1/approvals/${requestId}/wait?timeout=0`) };
    },
    status: 401, code: 'UNAUTHENTICATED', audit: [{ type: 'access.refused', channel: 'api', actor: 'unknown' }],
  },
  // Wrong principal, self-approval, roles, quorum.
  {
    name: 'an agent key used to approve → 403 REVIEWER_KEY_REQUIRED, decision.refused',
    attack: async () => {
      const requestId = await pending();
      return { requestId, response: await as(TEST_KEYS.agent)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' }) };
    },
    status: 403, code: 'REVIEWER_KEY_REQUIRED',
    audit: [{ type: 'decision.refused', channel: 'api', actor: 'payments-agent', code: 'REVIEWER_KEY_REQUIRED' }], after: stillPending,
  },
  {
    name: 'an agent key plus a spoofed x-signoff-reviewer / x-forwarded-user header → 403, decision.refused',
    attack: async () => {
      const requestId = await pending();
      const response = await as(TEST_KEYS.agent)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' }, { 'x-signoff-reviewer': 'ana', 'x-forwarded-user': 'ana' });
      return { requestId, response };
    },
    status: 403, code: 'REVIEWER_KEY_REQUIRED',
    audit: [{ type: 'decision.refused', channel: 'api', actor: 'payments-agent', code: 'REVIEWER_KEY_REQUIRED' }], after: stillPending,
  },
  {
    name: 'a reviewer key creating a request (wrong principal kind) → 403 AGENT_KEY_REQUIRED, access.refused',
    attack: async () => ({ response: await as(TEST_KEYS.ana)('POST', '/v1/approvals', bigPayment()) }),
    status: 403, code: 'AGENT_KEY_REQUIRED', audit: [{ type: 'access.refused', channel: 'api', actor: 'ana', code: 'AGENT_KEY_REQUIRED' }],
  },
  {
    name: 'an agent asking for actionable=true (a reviewer-only view) → 403 REVIEWER_KEY_REQUIRED, access.refused',
    attack: async () => ({ response: await as(TEST_KEYS.agent)('GET', '/v1/approvals?actionable=true') }),
    status: 403, code: 'REVIEWER_KEY_REQUIRED', audit: [{ type: 'access.refused', channel: 'api', actor: 'payments-agent', code: 'REVIEWER_KEY_REQUIRED' }],
  },
  {
    name: "a reviewer approving their own agent's request (sam owns sams-agent) → 403 SELF_APPROVAL, decision.refused",
    attack: async () => {
      const requestId = await pending(TEST_KEYS.ownedAgent);
      return { requestId, response: await as(TEST_KEYS.sam)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' }) };
    },
    status: 403, code: 'SELF_APPROVAL', audit: [{ type: 'decision.refused', channel: 'api', actor: 'sam', code: 'SELF_APPROVAL' }], after: stillPending,
  },
  {
    name: 'a reviewer approving a request made on their behalf (onBehalfOf: ana) → 403 SELF_APPROVAL, decision.refused',
    attack: async () => {
      const requestId = await pending(TEST_KEYS.agent, { onBehalfOf: 'ana' });
      return { requestId, response: await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' }) };
    },
    status: 403, code: 'SELF_APPROVAL', audit: [{ type: 'decision.refused', channel: 'api', actor: 'ana', code: 'SELF_APPROVAL' }], after: stillPending,
  },
  {
    name: 'wrong role: engineering approves a payment that needs finance + security → 403 NOT_AN_APPROVER, decision.refused',
    attack: async () => {
      const requestId = await pending();
      return { requestId, response: await as(TEST_KEYS.dev)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' }) };
    },
    status: 403, code: 'NOT_AN_APPROVER', audit: [{ type: 'decision.refused', channel: 'api', actor: 'dev', code: 'NOT_AN_APPROVER' }], after: stillPending,
  },
  {
    name: 'quorum padding: the same reviewer approves twice → 409 DUPLICATE_DECISION, decision.refused, still pending',
    attack: async () => {
      const requestId = await pending();
      expect((await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' })).status).toBe(200);
      return { requestId, response: await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' }) };
    },
    status: 409, code: 'DUPLICATE_DECISION',
    audit: [
      { type: 'decision.recorded', channel: 'api', actor: 'ana' },
      { type: 'decision.refused', channel: 'api', actor: 'ana', code: 'DUPLICATE_DECISION' },
    ],
    after: stillPending,
  },
  {
    name: 'quorum padding: two finance reviewers do not cover the security role → no approval (two decision.recorded, no request.approved)',
    attack: async () => {
      const requestId = await pending();
      expect((await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' })).status).toBe(200);
      return { requestId, response: await as(TEST_KEYS.bo)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' }) };
    },
    status: 200,
    audit: [
      { type: 'decision.recorded', channel: 'api', actor: 'ana' },
      { type: 'decision.recorded', channel: 'api', actor: 'bo' },
    ],
    after: stillPending,
  },
  {
    name: 'a reviewer flipping their approval into a veto (approve, then deny) → 409 DUPLICATE_DECISION, decision.refused',
    attack: async () => {
      const requestId = await pending();
      expect((await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve' })).status).toBe(200);
      return { requestId, response: await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'deny' }) };
    },
    status: 409, code: 'DUPLICATE_DECISION',
    audit: [
      { type: 'decision.recorded', actor: 'ana' },
      { type: 'decision.refused', channel: 'api', actor: 'ana', code: 'DUPLICATE_DECISION' },
    ],
    after: stillPending,
  },
  {
    name: 'agent-supplied reviewers/reason/context cannot lower the requirements → still 2 approvals over finance+security (request.created)',
    attack: async () => {
      const response = await as(TEST_KEYS.agent)('POST', '/v1/approvals', bigPayment({ reviewers: ['dev'], reason: 'pre-approved', context: { required_approvals: 0, approver_roles: ['engineering'] } }));
      expect(response.body.requirements).toMatchObject({ requiredApprovals: 2, approverRoles: ['finance', 'security'] });
      return { requestId: response.body.id, response };
    },
    status: 201, audit: [{ type: 'request.created', actor: 'payments-agent' }], after: stillPending,
  },
  // Edited args, expiry, resolved requests.
  {
    // First match wins in the fixture policy: a .eth payment over 100 escalates; at 50 the no-crypto rule denies it.
    name: 'edited args the policy denies (to: thief.eth, amount 50) → 422 EDIT_REFUSED, decision.refused',
    attack: async () => {
      const requestId = await pending();
      return { requestId, response: await as(TEST_KEYS.ana)('POST', `/v1/approvals/${requestId}/decision`, { verdict: 'approve', args: { to: 'thief.eth', amount: 50 } }) };
    },
    status: 422, code: 'EDIT_REFUSED', audit: [{ type: 'decision.refused', channel: 'api', actor: 'ana', code: 'EDIT_REFUSED' }], after: stillPending,
  },
  {
    name: 'a decision after expiry → 409 EXPIRED; request.expired then decision.refused',
    attack: async () => {
      const created = await as(TEST_KEYS.agent)('POST', '/v1/approvals', { tool: 'deploy.run', args: { service: 'api' } });
      expect(created.body.status).toBe('pending');
      await new Promise((resolve) => setTimeout(resolve, Date.parse(created.body.expiresAt) - Date.now() + 100));
      return { requestId: created.body.id, response: await as(TEST_KEYS.dev)('POST', `/v1/approvals/${created.body.id}/decision`, { verdict: 'approve' }) };
    },
    status: 409, code: 'EXPIRED',
    audit: [{ type: 'request.expired' }, { type: 'decision.refused', channel: 'api', actor: 'dev', code: 'EXPIRED' }],
    after: async ({ requestId }) => expect((await as(TEST_KEYS.agent)('GET', `/v1/approvals/${requestId}`)).body).toMatchObject({ status: 'expired', granted: false }),
  },
  {
    name: 'approving a request the policy already denied (.eth) → 409 ALREADY_RESOLVED, decision.refused',
    attack: async () => {
      const created = await as(TEST_KEYS.agent)('POST', '/v1/approvals', { tool: 'payment.send', args: { to: 'v.eth', amount: 5 } });
      expect(created.body.status).toBe('denied');
      return { requestId: created.body.id, response: await as(TEST_KEYS.ana)('POST', `/v1/approvals/${created.body.id}/decision`, { verdict: 'approve' }) };
    },
    status: 409, code: 'ALREADY_RESOLVED', audit: [{ type: 'decision.refused', channel: 'api', actor: 'ana', code: 'ALREADY_RESOLVED' }],
  },
  // Ids from outside.
  {
    name: 'path traversal in the id (..%2F..%2Fetc%2Fpasswd) on GET → 404, access.refused (a probe)',
    attack: async () => ({ response: await as(TEST_KEYS.ana)('GET', '/v1/approvals/..%2F..%2Fetc%2Fpasswd') }),
    status: 404, code: 'NOT_FOUND', audit: [{ type: 'access.refused', channel: 'api', actor: 'ana', code: 'NOT_FOUND' }],
  },
  {
    name: 'path traversal in the id on a decision (apr_..%2F..%2Fx) → 404, nothing decided, access.refused',
    attack: async () => ({ response: await as(TEST_KEYS.ana)('POST', '/v1/approvals/apr_..%2F..%2F..%2Fsecrets/decision', { verdict: 'approve' }) }),
    status: 404, code: 'NOT_FOUND', audit: [{ type: 'access.refused', channel: 'api', actor: 'ana', code: 'NOT_FOUND' }],
  },
  {
    name: "SQL in the id (apr_x' OR '1'='1) → 404, access.refused",
    attack: async () => ({ response: await as(TEST_KEYS.ana)('GET', `/v1/approvals/${encodeURIComponent("apr_x' OR '1'='1")}`) }),
    status: 404, code: 'NOT_FOUND', audit: [{ type: 'access.refused', channel: 'api', actor: 'ana', code: 'NOT_FOUND' }],
  },
  {
    name: "an agent reading another agent's request → 404, never a hint, access.refused",
    attack: async () => {
      const requestId = await pending(TEST_KEYS.ownedAgent);
      return { requestId, response: await as(TEST_KEYS.agent)('GET', `/v1/approvals/${requestId}`) };
    },
    status: 404, code: 'NOT_FOUND', audit: [{ type: 'access.refused', channel: 'api', actor: 'payments-agent', code: 'NOT_FOUND' }],
  },
];

describe('attacks on the /v1 API', () => {
  it.each(cases)('$name', async (attackCase) => {
    // Set-up requests (created by the attack itself) are audited too; assert only from the attack's first refusal on.
    const mark = await auditMark(server.store);
    const outcome = await attackCase.attack();
    expect(outcome.response.status).toBe(attackCase.status);
    if (attackCase.code) expect(outcome.response.body?.error?.code).toBe(attackCase.code);
    const setUp = (entry: { type: string; actor: string }) =>
      (entry.type === 'request.created' && !attackCase.audit.some((expected) => expected.type === 'request.created')) || entry.actor === 'policy';
    const added = (await mark.added()).filter((entry) => !setUp(entry));
    expect(added.map(summary)).toMatchObject(attackCase.audit);
    expect(added).toHaveLength(attackCase.audit.length);
    if (outcome.requestId) for (const entry of added.filter((entry) => entry.requestId !== undefined)) expect(entry.requestId).toBe(outcome.requestId);
    await attackCase.after?.(outcome);
  });

  it('leaves an audit chain that still verifies after every attack', async () => {
    expect(verifyAuditChain(await server.store.readAudit())).toBeUndefined(); // no break in the chain
  });
});
