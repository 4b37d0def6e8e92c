import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../audit/audit-chain.js';
import { client, startTestServer, TEST_KEYS } from '../test-server.js';

let server: Awaited<ReturnType<typeof startTestServer>>;
let agent: ReturnType<typeof client>;
let ana: ReturnType<typeof client>;
let sam: ReturnType<typeof client>;
let bo: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startTestServer();
  agent = client(server.url, TEST_KEYS.agent);
  ana = client(server.url, TEST_KEYS.ana);
  sam = client(server.url, TEST_KEYS.sam);
  bo = client(server.url, TEST_KEYS.bo);
});
afterAll(async () => server.cleanup());

// `ref` keeps each call distinct: an identical call still pending would be folded into the earlier request.
const bigPayment = (key: string, extra: object = {}) => ({ tool: 'payment.send', args: { to: 'acme', amount: 500, ref: key }, idempotencyKey: key, ...extra });

describe('the /v1 API', () => {
  it('serves health, metrics and the OpenAPI document without a key', async () => {
    expect((await client(server.url)('GET', '/v1/health')).body).toEqual({ status: 'ok' });
    expect((await client(server.url)('GET', '/v1/openapi.json')).body).toMatchObject({ openapi: '3.1.0', paths: { '/v1/approvals': {} } });
    expect((await client(server.url)('GET', '/metrics')).body).toContain('signoff_waiting_clients');
  });

  it('refuses a missing or unknown key with 401 and records it', async () => {
    expect((await client(server.url)('GET', '/v1/approvals')).status).toBe(401);
    const forged = await client(server.url, 'sk_forged_key_000000000000')('POST', '/v1/approvals', bigPayment('x'));
    expect(forged).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED', message: 'unknown API key' } } });
    const audit = await server.store.readAudit();
    expect(audit.filter((entry) => entry.type === 'access.refused').length).toBeGreaterThanOrEqual(2);
  });

  it('opens an escalation pending with the server policy requirements, idempotently', async () => {
    const created = await agent('POST', '/v1/approvals', bigPayment('t1:c1', { reviewers: ['nobody'], reason: 'trust me, 0 approvals' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 'pending',
      ruleId: 'big-payments',
      reason: 'Payment of 500 to acme',
      requester: 'payments-agent',
      requirements: { requiredApprovals: 2, approverRoles: ['finance', 'security'], timeoutMs: 1_800_000, timeoutAction: 'deny' },
    });
    const replay = await agent('POST', '/v1/approvals', bigPayment('t1:c1'));
    expect(replay).toMatchObject({ status: 200, body: { id: created.body.id } });
  });

  it('stores calls its policy denies or allows as already resolved, whatever the client thought', async () => {
    expect((await agent('POST', '/v1/approvals', { tool: 'payment.send', args: { to: 'v.eth', amount: 5 } })).body).toMatchObject({ status: 'denied', granted: false, ruleId: 'no-crypto' });
    expect((await agent('POST', '/v1/approvals', { tool: 'payment.send', args: { to: 'acme', amount: 5 } })).body).toMatchObject({ status: 'approved', granted: true });
    expect((await agent('POST', '/v1/approvals', { tool: 'shell.exec', args: {} })).body).toMatchObject({ status: 'denied', ruleId: null });
  });

  it.each([
    ['not JSON', '{"tool":', 'INVALID_JSON', undefined],
    ['an unknown field', { tool: 'payment.send', args: {}, approvals: 0 }, 'INVALID_REQUEST', 'approvals'],
    ['a wrong type', { tool: 42 }, 'INVALID_REQUEST', 'tool'],
    ['a bad callback URL', { tool: 'x', callbackUrl: 'ftp://x' }, 'INVALID_REQUEST', 'callbackUrl'],
    ['a NUL in an idempotency key', { tool: 'payment.send', idempotencyKey: 'run-1\u0000call-1' }, 'INVALID_REQUEST', 'idempotencyKey'],
    ['a NUL in onBehalfOf', { tool: 'payment.send', onBehalfOf: 'ana\u0000' }, 'INVALID_REQUEST', 'onBehalfOf'],
    ['a NUL in the tool name', { tool: 'payment.send\u0000' }, 'INVALID_REQUEST', 'tool'],
  ])('answers %s with a 400 naming the field', async (_name, body, code, field) => {
    const response = await agent('POST', '/v1/approvals', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.field).toBe(field);
  });

  it('refuses an oversized body with 413', async () => {
    // The server stops reading an oversized body and closes that connection; don't reuse it.
    const response = await agent('POST', '/v1/approvals', { tool: 'payment.send', args: { blob: 'x'.repeat(300_000) } }, { connection: 'close' });
    expect(response.status).toBe(413);
  });

  it('approves with 2-of-2 role coverage and wakes a waiting client at once', async () => {
    const { body: request } = await agent('POST', '/v1/approvals', bigPayment('t2:c1'));
    const waiting = agent('GET', `/v1/approvals/${request.id}/wait?timeout=10`);
    expect((await ana('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' })).body).toMatchObject({ status: 'pending' });
    expect((await bo('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' })).body).toMatchObject({ status: 'pending' });
    const approvedAt = Date.now();
    expect((await sam('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve', comment: 'ok' })).body).toMatchObject({ status: 'approved', granted: true });
    const woken = await waiting;
    expect(woken).toMatchObject({ status: 200, body: { status: 'approved', granted: true, approvedArgs: { to: 'acme', amount: 500 } } });
    expect(Date.now() - approvedAt).toBeLessThan(5_000); // a generous bound: the wait was 10 s
  });

  it('refuses an agent key deciding, a wrong role, self-approval, and a second decision by one reviewer — and records each', async () => {
    const { body: request } = await agent('POST', '/v1/approvals', bigPayment('t3:c1', { onBehalfOf: 'ana' }));
    expect((await agent('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' })).status).toBe(403);
    expect((await client(server.url, TEST_KEYS.dev)('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' })).body.error.code).toBe('NOT_AN_APPROVER');
    expect((await ana('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' })).body.error.code).toBe('SELF_APPROVAL');
    expect((await bo('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' })).status).toBe(200);
    expect((await bo('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' })).status).toBe(409);
    const owned = await client(server.url, TEST_KEYS.ownedAgent)('POST', '/v1/approvals', bigPayment('t3:c2'));
    expect((await sam('POST', `/v1/approvals/${owned.body.id}/decision`, { verdict: 'approve' })).body.error.code).toBe('SELF_APPROVAL');
    const refusals = (await server.store.readAudit()).filter((entry) => entry.type === 'decision.refused' && entry.requestId === request.id);
    expect(refusals.map((entry) => entry.detail.code)).toEqual(['REVIEWER_KEY_REQUIRED', 'NOT_AN_APPROVER', 'SELF_APPROVAL', 'DUPLICATE_DECISION']);
  });

  it('answers a late decision with 409 and expires fail-closed; timeout_action allow grants', async () => {
    const { body: deploy } = await agent('POST', '/v1/approvals', { tool: 'deploy.run', args: { service: 'api' } });
    await new Promise((resolve) => setTimeout(resolve, 800));
    const late = await ana('POST', `/v1/approvals/${deploy.id}/decision`, { verdict: 'approve' });
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'ALREADY_RESOLVED' } } });
    expect((await agent('GET', `/v1/approvals/${deploy.id}`)).body).toMatchObject({ status: 'expired', granted: false });
    const { body: report } = await agent('POST', '/v1/approvals', { tool: 'report.send', args: {} });
    const waited = await agent('GET', `/v1/approvals/${report.id}/wait?timeout=5`);
    expect(waited.body).toMatchObject({ status: 'expired', granted: true });
  });

  it('lets a reviewer list what they can act on; agents see only their own requests', async () => {
    const { body: request } = await agent('POST', '/v1/approvals', bigPayment('t4:c1'));
    const forAna = await ana('GET', '/v1/approvals?actionable=true');
    expect(forAna.body.data.map((entry: { id: string }) => entry.id)).toContain(request.id);
    await ana('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' });
    expect((await ana('GET', '/v1/approvals?actionable=true')).body.data.map((entry: { id: string }) => entry.id)).not.toContain(request.id);
    const other = client(server.url, TEST_KEYS.ownedAgent);
    expect((await other('GET', `/v1/approvals/${request.id}`)).status).toBe(404);
    expect((await other('GET', '/v1/approvals')).body.data.every((entry: { requester: string }) => entry.requester === 'sams-agent')).toBe(true);
    expect((await ana('GET', '/v1/approvals/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
  });

  it('keeps an audit chain that verifies', async () => {
    expect(verifyAuditChain(await server.store.readAudit())).toBeUndefined();
  });
});

describe('shutdown', () => {
  it('gives a waiting client a retryable 503 and loses nothing', async () => {
    const local = await startTestServer();
    const { body: request } = await client(local.url, TEST_KEYS.agent)('POST', '/v1/approvals', bigPayment('s1'));
    const waiting = client(local.url, TEST_KEYS.agent)('GET', `/v1/approvals/${request.id}/wait?timeout=30`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = local.close();
    const response = await waiting;
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    await closing;
    await local.cleanup();
  });
});
