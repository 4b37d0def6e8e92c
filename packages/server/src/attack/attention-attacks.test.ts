import { randomUUID } from 'node:crypto';
import { createSignoff } from '@signoff/core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../audit/audit-chain.js';
import { client, startTestServer, TEST_KEYS } from '../test-server.js';
import { auditMark } from './attack-helpers.js';

// Attacks on reviewers' attention: flooding them past an escalation budget, and abusing the folding
// of identical pending calls into one request. Each must be refused (or harmless) and audited.
let server: Awaited<ReturnType<typeof startTestServer>>;
const policy = readFileSync(fileURLToPath(new URL('../__fixtures__/policy.yaml', import.meta.url)), 'utf8');
const as = (key: string) => client(server.url, key);
const payment = (ref: string, idempotencyKey?: string) => ({ tool: 'payment.send', args: { to: 'acme', amount: 500, ref }, ...(idempotencyKey ? { idempotencyKey } : {}) });

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.cleanup();
});

describe('attacks on reviewers’ attention', () => {
  it('budget evasion: a fresh idempotency key and fresh args per call still meet max_pending; each refusal is audited, reviewers are told once', async () => {
    const mark = await auditMark(server.store);
    const outcomes = [];
    for (let index = 0; index < 12; index += 1) outcomes.push(await as(TEST_KEYS.budgetedAgent)('POST', '/v1/approvals', payment(`flood-${index}`, `key-${randomUUID()}`)));
    expect(outcomes.filter((outcome) => outcome.status === 201)).toHaveLength(2);
    const refused = outcomes.filter((outcome) => outcome.status === 429);
    expect(refused).toHaveLength(10);
    expect(refused.every((outcome) => outcome.body.error.code === 'ESCALATION_BUDGET_EXCEEDED' && /max_pending 2/.test(outcome.body.error.message))).toBe(true);
    const refusals = (await mark.added()).filter((entry) => entry.type === 'request.refused');
    expect(refusals).toHaveLength(10);
    expect(refusals.map((entry) => entry.detail.reviewersNotified)).toEqual([true, ...Array(9).fill(false)]);
    // Nothing was opened for the refused calls.
    expect((await as(TEST_KEYS.ana)('GET', '/v1/approvals?status=pending&limit=1000')).body.data.filter((request: { requester: string }) => request.requester === 'eager-agent')).toHaveLength(2);
  });

  it('budget evasion: denying its own backlog fast does not reset max_escalations_per_hour', async () => {
    // The two pending from the flood are decided; the agent is under max_pending again, but has used 2 of 4 this hour.
    for (const request of (await as(TEST_KEYS.ana)('GET', '/v1/approvals?status=pending&limit=1000')).body.data.filter((entry: { requester: string }) => entry.requester === 'eager-agent')) {
      expect((await as(TEST_KEYS.ana)('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'deny' })).status).toBe(200);
    }
    const again = [];
    for (let index = 0; index < 4; index += 1) {
      again.push(await as(TEST_KEYS.budgetedAgent)('POST', '/v1/approvals', payment(`hourly-${index}`)));
      if (again.at(-1)?.status === 201) await as(TEST_KEYS.ana)('POST', `/v1/approvals/${again.at(-1)?.body.id}/decision`, { verdict: 'deny' });
    }
    expect(again.map((outcome) => outcome.status)).toEqual([201, 201, 429, 429]);
    expect(again[2]?.body.error.message).toMatch(/max_escalations_per_hour 4/);
  });

  it('budget: the core client denies the call with the reason, without retrying it', async () => {
    const signoff = createSignoff({ policy, controlPlane: { url: server.url, apiKey: TEST_KEYS.budgetedAgent, maxAttempts: 5, retryDelayMs: 1 } });
    const mark = await auditMark(server.store);
    const authorization = await signoff.authorize('payment.send', { to: 'acme', amount: 500, ref: 'client' }, { idempotencyKey: 'client-1' });
    expect(authorization).toMatchObject({ granted: false, errorCode: 'ESCALATION_BUDGET_EXCEEDED' });
    expect(authorization.reason).toMatch(/^Not run \(fail-closed\): .*escalation budget exceeded: agent 'eager-agent'/);
    expect((await mark.added()).filter((entry) => entry.type === 'request.refused')).toHaveLength(1); // one attempt, not five
  });

  it('dedupe abuse: another agent sending the same call gets its own request, and cannot read the first', async () => {
    const first = await as(TEST_KEYS.agent)('POST', '/v1/approvals', payment('shared-args', 'a-1'));
    const other = await as(TEST_KEYS.ownedAgent)('POST', '/v1/approvals', payment('shared-args', 'b-1'));
    expect([first.status, other.status]).toEqual([201, 201]);
    expect(other.body.id).not.toBe(first.body.id);
    expect((await as(TEST_KEYS.ownedAgent)('GET', `/v1/approvals/${first.body.id}`)).status).toBe(404);
  });

  it('dedupe abuse: the same call on behalf of another user is not folded into theirs (no self-approval through the shared request)', async () => {
    const forAna = await as(TEST_KEYS.agent)('POST', '/v1/approvals', { ...payment('for-whom', 'w-1'), onBehalfOf: 'ana' });
    const forBo = await as(TEST_KEYS.agent)('POST', '/v1/approvals', { ...payment('for-whom', 'w-2'), onBehalfOf: 'bo' });
    expect([forAna.status, forBo.status]).toEqual([201, 201]);
    expect(forBo.body.id).not.toBe(forAna.body.id);
    // Bo cannot approve the request made on his behalf, and his approval of Ana's never stands for his.
    expect((await as(TEST_KEYS.bo)('POST', `/v1/approvals/${forBo.body.id}/decision`, { verdict: 'approve' })).body.error.code).toBe('SELF_APPROVAL');
    // Another context is another call too.
    const other = await as(TEST_KEYS.agent)('POST', '/v1/approvals', { ...payment('for-whom', 'w-3'), onBehalfOf: 'ana', context: { ticket: 'T-2' } });
    expect(other.status).toBe(201);
  });

  it('dedupe abuse: a folded key cannot be reused for other args, and an approved request is never handed to a new call', async () => {
    const mark = await auditMark(server.store);
    const first = await as(TEST_KEYS.agent)('POST', '/v1/approvals', payment('fold', 'fold-1'));
    const folded = await as(TEST_KEYS.agent)('POST', '/v1/approvals', payment('fold', 'fold-2'));
    expect(folded).toMatchObject({ status: 200, body: { id: first.body.id } });
    expect(folded.headers.get('signoff-deduplicated')).toBe('true');
    // The folded key now names that request: other args under it are a conflict, refused and audited.
    const conflict = await as(TEST_KEYS.agent)('POST', '/v1/approvals', payment('other-args', 'fold-2'));
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'IDEMPOTENCY_CONFLICT' } } });
    const added = await mark.added();
    expect(added.filter((entry) => entry.type === 'request.deduplicated')).toMatchObject([{ requestId: first.body.id, actor: 'payments-agent', detail: { idempotencyKey: 'fold-2' } }]);
    expect(added.filter((entry) => entry.type === 'request.refused')).toMatchObject([{ detail: { code: 'IDEMPOTENCY_CONFLICT' } }]);
    // Approved: the shared grant runs once; a new identical call opens a new request instead of riding the approval.
    for (const key of [TEST_KEYS.ana, TEST_KEYS.sam]) await as(key)('POST', `/v1/approvals/${first.body.id}/decision`, { verdict: 'approve', argsHash: first.body.argsHash });
    const signoff = createSignoff({ policy, controlPlane: { url: server.url, apiKey: TEST_KEYS.agent } });
    const args = { to: 'acme', amount: 500, ref: 'fold' };
    expect(await signoff.authorize('payment.send', args, { idempotencyKey: 'fold-1' })).toMatchObject({ granted: true });
    const second = await signoff.authorize('payment.send', args, { idempotencyKey: 'fold-2' });
    expect(second).toMatchObject({ granted: false, errorCode: 'ALREADY_EXECUTED' });
    const fresh = await as(TEST_KEYS.agent)('POST', '/v1/approvals', payment('fold', 'fold-3'));
    expect(fresh).toMatchObject({ status: 201, body: { status: 'pending' } });
    expect(fresh.body.id).not.toBe(first.body.id);
  });

  it('keeps an audit chain that verifies', async () => {
    expect(verifyAuditChain(await server.store.readAudit())).toBeUndefined();
  });
});
