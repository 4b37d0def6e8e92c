import { createGuard, parsePolicy, type ApprovalRequest } from '@signoff/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../audit/audit-chain.js';
import { openApprovalRequest } from '../engine/open-approval-request.js';
import type { Store } from './store.js';

/** How a contract run gets a store: `open` a fresh empty one; `reopen` the same data in a new instance. */
export interface StoreFactory {
  open(): Promise<Store>;
  reopen(): Promise<Store>;
}

const policy = createGuard(parsePolicy('rules: [{ tool: "**", action: escalate, metadata: { approval_timeout_minutes: 10 } }]'));
const start = new Date('2026-11-24T06:00:00.000Z');

/** A pending request as the API would open it. */
export function newRequest(id: string, overrides: { requester?: string; idempotencyKey?: string; tool?: string; now?: Date } = {}): { request: ApprovalRequest; events: ReturnType<typeof openApprovalRequest>['events'] } {
  const tool = overrides.tool ?? 'payment.send';
  const args = { to: 'acme', amount: 500, id };
  return openApprovalRequest(
    { tool, args, ...(overrides.idempotencyKey ? { idempotencyKey: overrides.idempotencyKey } : {}) },
    { id, requester: overrides.requester ?? 'agent-1', now: overrides.now ?? start, decision: policy(tool, args), defaultTimeoutMs: 60_000 },
  );
}

/**
 * The behaviour every Store must have, run against each implementation with real databases.
 */
export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores a request and reads it back equal', async () => {
      const { request, events } = newRequest('apr_a');
      expect(await store.createRequest(request, events)).toEqual({ request, created: true });
      expect(await store.getRequest('apr_a')).toEqual(request);
      expect(await store.getRequest('apr_missing')).toBeUndefined();
    });

    it('is idempotent on (requester, idempotency key) and keeps requesters apart', async () => {
      const first = newRequest('apr_1', { idempotencyKey: 'thread-1:call-1' });
      await store.createRequest(first.request, first.events);
      const replay = newRequest('apr_2', { idempotencyKey: 'thread-1:call-1' });
      expect(await store.createRequest(replay.request, replay.events)).toEqual({ request: first.request, created: false });
      const otherAgent = newRequest('apr_3', { idempotencyKey: 'thread-1:call-1', requester: 'agent-2' });
      expect((await store.createRequest(otherAgent.request, otherAgent.events)).created).toBe(true);
      expect(await store.getRequest('apr_2')).toBeUndefined();
      expect((await store.readAudit()).filter((entry) => entry.type === 'request.created')).toHaveLength(2);
    });

    it('lists newest first with filters', async () => {
      for (const [index, tool] of ['payment.send', 'email.send', 'payment.send'].entries()) {
        const { request, events } = newRequest(`apr_${index}`, { tool, now: new Date(start.getTime() + index * 1000) });
        await store.createRequest(request, events);
      }
      await store.updateRequest('apr_0', (current) => ({ request: { ...current, status: 'denied' }, events: [], result: null }));
      expect((await store.listRequests()).map((request) => request.id)).toEqual(['apr_2', 'apr_1', 'apr_0']);
      expect((await store.listRequests({ tool: 'payment.send', status: 'pending' })).map((request) => request.id)).toEqual(['apr_2']);
      expect(await store.listRequests({ requester: 'nobody' })).toEqual([]);
      const keyed = newRequest('apr_k', { idempotencyKey: 'run-7:call-1', now: new Date(start.getTime() - 1000) });
      await store.createRequest(keyed.request, keyed.events);
      expect((await store.listRequests({ requester: 'agent-1', idempotencyKey: 'run-7:call-1' })).map((request) => request.id)).toEqual(['apr_k']);
      expect(await store.listRequests({ limit: 1 })).toHaveLength(1);
    });

    it('updates under a lock and writes the events with the change', async () => {
      const { request, events } = newRequest('apr_u');
      await store.createRequest(request, events);
      const result = await store.updateRequest('apr_u', (current) => ({
        request: { ...current, status: 'approved', granted: true },
        events: [{ type: 'request.approved', requestId: 'apr_u', actor: 'ana', channel: 'api', detail: {} }],
        result: 'done',
      }));
      expect(result).toBe('done');
      expect(await store.getRequest('apr_u')).toMatchObject({ status: 'approved', granted: true });
      expect((await store.readAudit()).map((entry) => entry.type)).toEqual(['request.created', 'request.approved']);
      expect(await store.updateRequest('apr_none', () => ({ events: [], result: 'never' }))).toBeUndefined();
    });

    it('lets exactly one of 50 concurrent decisions make the transition', async () => {
      const { request, events } = newRequest('apr_race');
      await store.createRequest(request, events);
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          store.updateRequest('apr_race', (current) =>
            current.status === 'pending'
              ? {
                  request: { ...current, status: 'approved', granted: true, resolution: `reviewer-${index}` },
                  events: [{ type: 'request.approved', requestId: 'apr_race', actor: `reviewer-${index}`, channel: 'api', detail: {} }],
                  result: 'transitioned',
                }
              : { events: [{ type: 'decision.refused', requestId: 'apr_race', actor: `reviewer-${index}`, channel: 'api', detail: { code: 'ALREADY_RESOLVED' } }], result: 'refused' },
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === 'transitioned')).toHaveLength(1);
      const audit = await store.readAudit();
      expect(audit.filter((entry) => entry.type === 'request.approved')).toHaveLength(1);
      expect(audit.filter((entry) => entry.type === 'decision.refused')).toHaveLength(49);
      expect(verifyAuditChain(audit)).toBeUndefined();
    });

    it('hands overdue pending requests to the sweeper once', async () => {
      for (const id of ['apr_due', 'apr_later']) {
        const { request, events } = newRequest(id, { now: id === 'apr_due' ? start : new Date(start.getTime() + 3_600_000) });
        await store.createRequest(request, events);
      }
      const expire = (current: ApprovalRequest) => ({ request: { ...current, status: 'expired' as const }, events: [], result: null });
      const afterDeadline = new Date(start.getTime() + 11 * 60_000);
      expect(await store.updateOverdue(afterDeadline, 100, expire)).toBe(1);
      expect(await store.updateOverdue(afterDeadline, 100, expire)).toBe(0);
      expect((await store.getRequest('apr_due'))?.status).toBe('expired');
      expect((await store.getRequest('apr_later'))?.status).toBe('pending');
    });

    it('notifies listeners after a change commits', async () => {
      const seen: string[] = [];
      const stop = store.onRequestChanged((id) => seen.push(id));
      const { request, events } = newRequest('apr_n');
      await store.createRequest(request, events);
      await store.updateRequest('apr_n', (current) => ({ request: { ...current, status: 'denied' }, events: [], result: null }));
      await expect.poll(() => seen.filter((id) => id === 'apr_n').length).toBe(2);
      stop();
    });

    it('keeps deliveries in an outbox: claimed under a lease, retried, settled once', async () => {
      const { request, events } = newRequest('apr_o');
      const message = { channel: 'webhook', topic: 'approval.created' as const, requestId: 'apr_o', target: 'https://example.com/hook' };
      await store.createRequest(request, events, [message]);
      await store.updateRequest('apr_o', (current) => ({
        request: { ...current, status: 'approved', granted: true },
        events: [],
        outbox: [{ ...message, topic: 'approval.resolved' }],
        result: null,
      }));
      const now = new Date(Date.now() + 1_000);
      const [first, second] = await Promise.all([store.claimOutbox(now, 1, 30_000), store.claimOutbox(now, 10, 30_000)]);
      const claimed = [...first, ...second];
      expect(claimed.map((entry) => entry.topic).sort()).toEqual(['approval.created', 'approval.resolved']);
      expect(new Set(claimed.map((entry) => entry.id)).size).toBe(2);
      expect(claimed[0]).toMatchObject({ channel: 'webhook', requestId: 'apr_o', target: 'https://example.com/hook', attempts: 0 });
      expect(await store.claimOutbox(now, 10, 30_000)).toEqual([]); // leased

      const created = claimed.find((entry) => entry.topic === 'approval.created')!;
      const resolved = claimed.find((entry) => entry.topic === 'approval.resolved')!;
      await store.settleOutbox(created.id, { outcome: 'retry', at: new Date(now.getTime() + 60_000), error: 'HTTP 503' });
      await store.settleOutbox(resolved.id, { outcome: 'delivered' });
      expect(await store.claimOutbox(new Date(now.getTime() + 59_000), 10, 30_000)).toEqual([]);
      const retried = await store.claimOutbox(new Date(now.getTime() + 61_000), 10, 30_000);
      expect(retried).toEqual([expect.objectContaining({ id: created.id, attempts: 1, lastError: 'HTTP 503' })]);
      await store.settleOutbox(created.id, { outcome: 'failed', error: 'gave up' }, [
        { type: 'delivery.failed', requestId: 'apr_o', actor: 'system', channel: 'system', detail: { id: created.id } },
      ]);
      expect(await store.claimOutbox(new Date(now.getTime() + 10 * 86_400_000), 10, 30_000)).toEqual([]);
      expect((await store.readAudit()).at(-1)).toMatchObject({ type: 'delivery.failed' });
    });

    it('reclaims a delivery whose lease ran out (a replica died mid-delivery)', async () => {
      const { request, events } = newRequest('apr_l');
      await store.createRequest(request, events, [{ channel: 'webhook', topic: 'approval.created', requestId: 'apr_l', target: 'x' }]);
      const now = new Date(Date.now() + 1_000);
      const [claimed] = await store.claimOutbox(now, 10, 5_000);
      expect(await store.claimOutbox(new Date(now.getTime() + 4_000), 10, 5_000)).toEqual([]);
      expect(await store.claimOutbox(new Date(now.getTime() + 6_000), 10, 5_000)).toEqual([expect.objectContaining({ id: claimed!.id })]);
    });

    it('keeps a verifiable audit chain across restarts', async () => {
      const { request, events } = newRequest('apr_d');
      await store.createRequest(request, events);
      await store.appendAudit([{ type: 'access.refused', actor: 'unknown', detail: { reason: 'bad API key' } }]);
      await store.close();
      store = await factory.reopen();
      expect(await store.getRequest('apr_d')).toEqual(request);
      await store.appendAudit([{ type: 'access.refused', actor: 'unknown', detail: { reason: 'bad API key' } }]);
      const audit = await store.readAudit();
      expect(audit.map((entry) => entry.sequence)).toEqual([1, 2, 3]);
      expect(verifyAuditChain(audit)).toBeUndefined();
    });
  });
}
