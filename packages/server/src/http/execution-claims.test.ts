import { hashArgs } from '@signoff/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../audit/audit-chain.js';
import { client, startTestServer, TEST_KEYS } from '../test-server.js';

let server: Awaited<ReturnType<typeof startTestServer>>;
let agent: ReturnType<typeof client>;
let otherAgent: ReturnType<typeof client>;
let ana: ReturnType<typeof client>;
let sam: ReturnType<typeof client>;

beforeAll(async () => {
  server = await startTestServer();
  agent = client(server.url, TEST_KEYS.agent);
  otherAgent = client(server.url, TEST_KEYS.ownedAgent);
  ana = client(server.url, TEST_KEYS.ana);
  sam = client(server.url, TEST_KEYS.sam);
});
afterAll(async () => server.cleanup());

const args = { to: 'acme', amount: 500 };
const argsHash = hashArgs(args);
let keys = 0;

/** A payment both reviewers approved. */
async function approvedPayment(): Promise<string> {
  const created = await agent('POST', '/v1/approvals', { tool: 'payment.send', args, idempotencyKey: `claims:${(keys += 1)}` });
  await ana('POST', `/v1/approvals/${created.body.id}/decision`, { verdict: 'approve', argsHash });
  const approved = await sam('POST', `/v1/approvals/${created.body.id}/decision`, { verdict: 'approve', argsHash });
  expect(approved.body.status).toBe('approved');
  return created.body.id as string;
}

describe('POST /v1/approvals/:id/execution — an approval runs once', () => {
  it('claims once; a retry of the same attempt gets the same answer; a replay is 409 ALREADY_EXECUTED, audited', async () => {
    const id = await approvedPayment();
    const claimed = await agent('POST', `/v1/approvals/${id}/execution`, { argsHash, nonce: 'attempt-0001' });
    expect(claimed).toMatchObject({ status: 200, body: { status: 'executed', granted: true, approvedArgs: args, execution: { claimedBy: 'payments-agent', nonce: 'attempt-0001', argsHash } } });
    const retry = await agent('POST', `/v1/approvals/${id}/execution`, { argsHash, nonce: 'attempt-0001' });
    expect(retry).toMatchObject({ status: 200, body: { status: 'executed', execution: { claimedAt: claimed.body.execution.claimedAt } } });
    const replay = await agent('POST', `/v1/approvals/${id}/execution`, { argsHash, nonce: 'attempt-0002' });
    expect(replay).toMatchObject({ status: 409, body: { error: { code: 'ALREADY_EXECUTED' } } });
    expect(replay.body.error.message).toContain(claimed.body.execution.claimedAt);

    const audit = (await server.store.readAudit()).filter((entry) => entry.requestId === id);
    expect(audit.map((entry) => entry.type)).toEqual(['request.created', 'decision.recorded', 'decision.recorded', 'request.approved', 'execution.claimed', 'execution.refused']);
    expect(verifyAuditChain(await server.store.readAudit())).toBeUndefined();
    expect((await agent('GET', `/v1/approvals?status=executed&limit=1000`)).body.data.map((request: { id: string }) => request.id)).toContain(id);
  });

  it('lets exactly one of many concurrent claims through', async () => {
    const id = await approvedPayment();
    const attempts = await Promise.all(Array.from({ length: 12 }, (_, index) => agent('POST', `/v1/approvals/${id}/execution`, { argsHash, nonce: `concurrent-${index}` })));
    expect(attempts.filter((attempt) => attempt.status === 200)).toHaveLength(1);
    expect(attempts.filter((attempt) => attempt.status === 409 && attempt.body.error.code === 'ALREADY_EXECUTED')).toHaveLength(11);
  });

  it('refuses what was not granted, other args, reviewers and other agents', async () => {
    const pending = await agent('POST', '/v1/approvals', { tool: 'payment.send', args, idempotencyKey: 'claims:pending' });
    expect(await agent('POST', `/v1/approvals/${pending.body.id}/execution`, { argsHash, nonce: 'attempt-0001' })).toMatchObject({ status: 409, body: { error: { code: 'NOT_GRANTED' } } });
    const id = await approvedPayment();
    const other = hashArgs({ to: 'mallory', amount: 500 });
    expect(await agent('POST', `/v1/approvals/${id}/execution`, { argsHash: other, nonce: 'attempt-0001' })).toMatchObject({ status: 409, body: { error: { code: 'ARGS_MISMATCH' } } });
    expect(await ana('POST', `/v1/approvals/${id}/execution`, { argsHash, nonce: 'attempt-0001' })).toMatchObject({ status: 403, body: { error: { code: 'AGENT_KEY_REQUIRED' } } });
    expect(await otherAgent('POST', `/v1/approvals/${id}/execution`, { argsHash, nonce: 'attempt-0001' })).toMatchObject({ status: 404 });
    expect(await agent('POST', `/v1/approvals/${id}/execution`, { argsHash: 'nope', nonce: 'attempt-0001' })).toMatchObject({ status: 400, body: { error: { field: 'argsHash' } } });
    expect(await agent('POST', `/v1/approvals/${id}/execution`, { argsHash })).toMatchObject({ status: 400, body: { error: { field: 'nonce' } } });
    // None of the refusals used the grant.
    expect(await agent('POST', `/v1/approvals/${id}/execution`, { argsHash, nonce: 'attempt-0001' })).toMatchObject({ status: 200 });
  });

  it('records the outcome the agent reports, once', async () => {
    const id = await approvedPayment();
    await agent('POST', `/v1/approvals/${id}/execution`, { argsHash, nonce: 'attempt-0001' });
    expect(await agent('POST', `/v1/approvals/${id}/execution/outcome`, { nonce: 'attempt-0002', outcome: 'succeeded' })).toMatchObject({ status: 409, body: { error: { code: 'NONCE_MISMATCH' } } });
    const reported = await agent('POST', `/v1/approvals/${id}/execution/outcome`, { nonce: 'attempt-0001', outcome: 'failed', detail: 'card declined' });
    expect(reported).toMatchObject({ status: 200, body: { execution: { outcome: 'failed' } } });
    expect(await agent('POST', `/v1/approvals/${id}/execution/outcome`, { nonce: 'attempt-0001', outcome: 'whatever' })).toMatchObject({ status: 400, body: { error: { field: 'outcome' } } });
    const audit = (await server.store.readAudit()).filter((entry) => entry.requestId === id && entry.type === 'execution.reported');
    expect(audit).toEqual([expect.objectContaining({ actor: 'payments-agent', detail: { outcome: 'failed', detail: 'card declined' } })]);
  });
});

describe('idempotency keys name one call', () => {
  it('the same key with other args or another tool is 409 IDEMPOTENCY_CONFLICT, audited; the same call replays', async () => {
    const created = await agent('POST', '/v1/approvals', { tool: 'payment.send', args, idempotencyKey: 'conflict:1' });
    expect((await agent('POST', '/v1/approvals', { tool: 'payment.send', args, idempotencyKey: 'conflict:1' })).body.id).toBe(created.body.id);
    const otherArgs = await agent('POST', '/v1/approvals', { tool: 'payment.send', args: { ...args, to: 'mallory' }, idempotencyKey: 'conflict:1' });
    expect(otherArgs).toMatchObject({ status: 409, body: { error: { code: 'IDEMPOTENCY_CONFLICT', field: 'idempotencyKey' } } });
    const otherTool = await agent('POST', '/v1/approvals', { tool: 'deploy.run', args, idempotencyKey: 'conflict:1' });
    expect(otherTool).toMatchObject({ status: 409, body: { error: { code: 'IDEMPOTENCY_CONFLICT' } } });
    expect(otherTool.body.error.message).toContain('tool payment.send');
    const audit = (await server.store.readAudit()).filter((entry) => entry.type === 'request.refused' && entry.requestId === created.body.id);
    expect(audit).toHaveLength(2);
  });
});
