import { createGuard, parsePolicy, SignoffError, type ApprovalRequest } from '@signoff/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealAuditEntry, verifyAuditChain } from '../audit/audit-chain.js';
import type { AuditEntry, AuditEventInput } from '../audit/audit-event.js';
import { compareRequestStates } from '../audit/compare-request-states.js';
import { hashRequestState } from '../audit/hash-request-state.js';
import { openApprovalRequest } from '../engine/open-approval-request.js';
import type { Store } from './store.js';

/** How a contract run gets a store: `open` a fresh empty one; `reopen` the same data in a new instance. */
export interface StoreFactory {
  open(): Promise<Store>;
  reopen(): Promise<Store>;
  /**
   * Runs SQL straight against the database of the last opened store (`?` placeholders), as someone
   * with database access would — bypassing the store.
   */
  sql(statement: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Makes a fresh database holding the tables as Signoff 0.1 created them (no store open); `reopen` opens it. */
  createLegacy(): Promise<void>;
  /** The column by which a request row names the audit entry of its state (default `audit_sequence`; PostgreSQL: `audit_entry`, an entry id). */
  readonly entryColumn?: string;
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

    it('remembers signed-out inbox sessions until they would have expired', async () => {
      expect(await store.sessionEnded('nonce-a')).toBe(false);
      await store.endSession('nonce-a', new Date(Date.now() + 3_600_000));
      await store.endSession('nonce-a', new Date(Date.now() + 3_600_000)); // twice is fine
      await store.endSession('nonce-old', new Date(Date.now() - 1_000));
      expect(await store.sessionEnded('nonce-a')).toBe(true);
      await store.endSession('nonce-b', new Date(Date.now() + 3_600_000)); // sweeps the expired record
      expect(await store.sessionEnded('nonce-old')).toBe(false);
      expect(await store.sessionEnded('nonce-b')).toBe(true);
    });

    it('reads the log a page at a time, in order', async () => {
      await store.appendAudit(Array.from({ length: 12 }, (_, index) => ({ type: 'access.refused' as const, actor: 'unknown', channel: 'api' as const, detail: { index } })));
      const pages = [await store.readAuditPage(0, 5), await store.readAuditPage(5, 5), await store.readAuditPage(10, 5), await store.readAuditPage(12, 5)];
      expect(pages.map((page) => page.map((entry) => entry.sequence))).toEqual([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12], []]);
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
      // Keyset pages: everything older than a given request, stable while newer ones arrive.
      const [newest] = await store.listRequests({ limit: 1 });
      expect((await store.listRequests({ before: { createdAt: newest!.createdAt, id: newest!.id } })).map((request) => request.id)).toEqual(['apr_1', 'apr_0', 'apr_k']);
    });

    it('filters in the query: statuses, reviewer, creation time, text search — and pages through the filtered rows', async () => {
      const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
      for (const [index, tool] of ['payment.send', 'email.send', 'payment.send', 'deploy.run', 'payment.send'].entries()) {
        const { request, events } = newRequest(`apr_f${index}`, { tool, now: at(index * 60) });
        await store.createRequest(request, events);
      }
      const decide = (id: string, reviewer: string, status: 'approved' | 'denied' | 'pending') =>
        store.updateRequest(id, (current) => ({
          request: { ...current, status, decisions: [...current.decisions, { reviewer, verdict: status === 'denied' ? 'deny' : 'approve', channel: 'inbox', at: at(600).toISOString(), argsHash: current.approvedArgsHash }] },
          events: [{ type: 'decision.recorded', requestId: id, actor: reviewer, channel: 'inbox', detail: {} }],
          result: null,
        }));
      await decide('apr_f0', 'ana', 'approved');
      await decide('apr_f1', 'sam', 'denied');
      await decide('apr_f2', 'ana', 'pending');
      await decide('apr_f2', 'sam', 'approved');
      const ids = async (filter: Parameters<Store['listRequests']>[0]) => (await store.listRequests(filter)).map((request) => request.id);

      expect(await ids({ statuses: ['approved', 'denied', 'executed', 'expired'] })).toEqual(['apr_f2', 'apr_f1', 'apr_f0']);
      expect(await ids({ statuses: [] })).toEqual([]);
      expect(await ids({ reviewer: 'ana' })).toEqual(['apr_f2', 'apr_f0']);
      expect(await ids({ reviewer: 'sam', tool: 'payment.send' })).toEqual(['apr_f2']);
      expect(await ids({ reviewer: 'nobody' })).toEqual([]);
      // Bounds: since is inclusive, until exclusive; any offset is the same instant.
      expect(await ids({ createdSince: at(60).toISOString(), createdUntil: at(180).toISOString() })).toEqual(['apr_f2', 'apr_f1']);
      expect(await ids({ createdSince: '2026-11-24T07:03:00+01:00' })).toEqual(['apr_f4', 'apr_f3']);
      await expect(store.listRequests({ createdSince: 'yesterday' })).rejects.toThrow(/createdSince: expected an ISO 8601 time/);
      // Search reads the whole stored request, case-insensitively: tool, args, comments.
      expect(await ids({ search: 'DEPLOY' })).toEqual(['apr_f3']);
      expect(await ids({ search: 'apr_f4' })).toEqual(['apr_f4']);
      expect(await ids({ search: "'; DROP TABLE approval_requests; --" })).toEqual([]);
      // The limit applies after the filters: a page holds only matching rows, and the next page continues them.
      const first = await store.listRequests({ tool: 'payment.send', limit: 2 });
      expect(first.map((request) => request.id)).toEqual(['apr_f4', 'apr_f2']);
      const last = first.at(-1)!;
      expect(await ids({ tool: 'payment.send', limit: 2, before: { createdAt: last.createdAt, id: last.id } })).toEqual(['apr_f0']);
    });

    it("reads one request's audit trail in order, and nothing of other requests", async () => {
      for (const id of ['apr_t1', 'apr_t2']) {
        const { request, events } = newRequest(id);
        await store.createRequest(request, events);
      }
      await store.appendAudit([{ type: 'access.refused', requestId: 'apr_t1', actor: 'mallory', channel: 'inbox', detail: { reason: 'invalid CSRF token' } }]);
      await store.updateRequest('apr_t1', (current) => ({
        request: { ...current, status: 'approved' },
        events: [{ type: 'request.approved', requestId: 'apr_t1', actor: 'ana', channel: 'inbox', detail: { comment: 'ok' } }],
        result: null,
      }));
      await store.updateRequest('apr_t2', (current) => ({ request: { ...current, status: 'denied' }, events: [{ type: 'request.denied', requestId: 'apr_t2', actor: 'sam', detail: {} }], result: null }));
      const trail = await store.readRequestAudit('apr_t1');
      expect(trail.map((entry) => [entry.type, entry.actor])).toEqual([
        ['request.created', 'agent-1'],
        ['access.refused', 'mallory'],
        ['request.approved', 'ana'],
      ]);
      expect(trail.map((entry) => entry.sequence)).toEqual([...trail.map((entry) => entry.sequence)].sort((a, b) => a - b));
      expect(await store.readRequestAudit('apr_none')).toEqual([]);
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

    it('queues a follow-up digest for a request of a window whose digest a sender already claimed (it may have read what waits)', async () => {
      const dueAt = new Date(Date.now() - 1_000); // the window has closed
      const digest = { channel: 'email', topic: 'email.digest' as const, notice: { reviewerId: 'dana', window: dueAt.toISOString() }, target: 'dana@example.com', dueAt };
      await store.enqueueOutbox([digest]);
      await store.enqueueOutbox([digest]); // another request of the window joins the queued digest
      const claimed = await store.claimOutbox(new Date(), 10, 30_000);
      expect(claimed).toEqual([expect.objectContaining({ topic: 'email.digest', notice: digest.notice })]);
      // Requests of that window that commit after the claim: the sender may not have seen them.
      await store.enqueueOutbox([digest]);
      await store.enqueueOutbox([digest]); // they share one follow-up
      const followUps = await store.claimOutbox(new Date(), 10, 30_000);
      expect(followUps).toEqual([expect.objectContaining({ topic: 'email.digest', notice: { ...digest.notice, after: claimed[0]!.id } })]);
      // Delivered, it is followed in turn; an unclaimed follow-up is joined, not repeated.
      await store.settleOutbox(claimed[0]!.id, { outcome: 'delivered' });
      await store.settleOutbox(followUps[0]!.id, { outcome: 'delivered' });
      await store.enqueueOutbox([digest]);
      await store.enqueueOutbox([digest]);
      expect(await store.claimOutbox(new Date(), 10, 30_000)).toEqual([expect.objectContaining({ notice: { ...digest.notice, after: followUps[0]!.id } })]);
    });

    it('reclaims a delivery whose lease ran out (a replica died mid-delivery)', async () => {
      const { request, events } = newRequest('apr_l');
      await store.createRequest(request, events, [{ channel: 'webhook', topic: 'approval.created', requestId: 'apr_l', target: 'x' }]);
      const now = new Date(Date.now() + 1_000);
      const [claimed] = await store.claimOutbox(now, 10, 5_000);
      expect(await store.claimOutbox(new Date(now.getTime() + 4_000), 10, 5_000)).toEqual([]);
      expect(await store.claimOutbox(new Date(now.getTime() + 6_000), 10, 5_000)).toEqual([expect.objectContaining({ id: claimed!.id })]);
    });

    /** A request denied the way the engine denies one: its decision and its resolution events. */
    const deniedRequest = async (id: string, now = start) => {
      const { request, events } = newRequest(id, { now });
      await store.createRequest(request, events);
      return store.updateRequest(id, (current) => {
        const denied: ApprovalRequest = { ...current, status: 'denied', granted: false, resolution: 'Denied by Ana', resolvedAt: now.toISOString() };
        return {
          request: denied,
          events: [
            { type: 'decision.recorded', requestId: id, actor: 'ana', channel: 'api', detail: { verdict: 'deny' } },
            { type: 'request.denied', requestId: id, actor: 'ana', channel: 'api', detail: {} },
          ],
          result: denied,
        };
      }) as Promise<ApprovalRequest>;
    };
    const approve = (current: ApprovalRequest) => ({
      request: { ...current, status: 'approved' as const, granted: true },
      events: [{ type: 'request.approved' as const, requestId: current.id, actor: 'sam', channel: 'api' as const, detail: {} }],
      result: 'approved',
    });
    const isTampered = (error: unknown) => SignoffError.isInstance(error) && error.code === 'STATE_TAMPERED';
    const entryColumn = factory.entryColumn ?? 'audit_sequence';
    const rowOf = async (id: string) => (await factory.sql(`SELECT body, state_hash, ${entryColumn} AS entry FROM approval_requests WHERE id = ?`, [id]))[0];

    it('binds each row to the audit event that produced its state, and logs a state no event announced', async () => {
      const { request, events } = newRequest('apr_bind');
      await store.createRequest(request, events);
      const created = (await store.readAudit()).at(-1);
      expect(created).toMatchObject({ type: 'request.created', requestId: 'apr_bind', stateHash: hashRequestState(request) });
      expect(await store.readRequestStates()).toEqual([{ id: 'apr_bind', body: expect.any(String), stateHash: hashRequestState(request), auditSequence: created?.sequence }]);

      // A change that writes a state but logs nothing about it still leaves the state in the log.
      await store.updateRequest('apr_bind', (current) => ({ request: { ...current, resolution: 'Waiting for 1 more approval(s)' }, events: [], result: null }));
      const updated = (await store.readAudit()).at(-1);
      expect(updated).toMatchObject({ type: 'request.updated', requestId: 'apr_bind', actor: 'system', stateHash: hashRequestState(await store.getRequest('apr_bind')) });
      // Events that change no state carry none, and a caller cannot stamp one.
      await store.updateRequest('apr_bind', () => ({ events: [{ type: 'decision.refused', requestId: 'apr_bind', actor: 'lee', detail: {}, stateHash: 'forged' }], result: null }));
      await store.appendAudit([{ type: 'access.refused', requestId: 'apr_bind', actor: 'unknown', detail: {}, stateHash: 'forged' } as AuditEventInput]);
      const audit = await store.readAudit();
      expect(audit.slice(-2).map((entry) => entry.stateHash)).toEqual([undefined, undefined]);
      expect((await store.readRequestStates())[0]?.auditSequence).toBe(updated?.sequence);
      expect(verifyAuditChain(audit)).toBeUndefined();
      expect(compareRequestStates(audit, await store.readRequestStates())).toEqual([]);
    });

    for (const rehashed of [false, true]) {
      it(`refuses to decide a row flipped denied → approved with raw SQL (${rehashed ? 'state_hash recomputed' : 'state_hash left'}): audited, row unchanged`, async () => {
        const denied = await deniedRequest('apr_flip');
        const forged = JSON.stringify({ ...denied, status: 'approved', granted: true, resolution: 'Approved by Ana' });
        await factory.sql(`UPDATE approval_requests SET status = 'approved', body = ?${rehashed ? ', state_hash = ?' : ''} WHERE id = ?`, [
          forged,
          ...(rehashed ? [hashRequestState(JSON.parse(forged))] : []),
          'apr_flip',
        ]);
        const tampered = await rowOf('apr_flip');

        let changeCalled = false;
        const attempt = store.updateRequest('apr_flip', (current) => ((changeCalled = true), approve(current)));
        await expect(attempt).rejects.toSatisfy(isTampered);
        expect(changeCalled).toBe(false);
        const audit = await store.readAudit();
        const problem = rehashed ? 'commits to another state' : 'does not hash to its state_hash';
        expect(audit.at(-1)).toMatchObject({ type: 'state.tampered', requestId: 'apr_flip', actor: 'system', detail: { problems: [expect.stringContaining(problem)] } });
        expect(await rowOf('apr_flip')).toEqual(tampered);

        // Reads refuse it too: nothing may show the forged grant.
        await expect(store.getRequest('apr_flip')).rejects.toSatisfy(isTampered);
        await expect(store.listRequests()).rejects.toThrow(/apr_flip/);
        expect(verifyAuditChain(audit)).toBeUndefined(); // the chain itself is intact: only the row lies
        expect(compareRequestStates(audit, await store.readRequestStates())).toEqual([{ requestId: 'apr_flip', problems: expect.arrayContaining([expect.stringContaining('not the state logged last')]) }]);
      });
    }

    it('refuses a row rolled back to an earlier logged state while its newer state is still logged', async () => {
      const { request, events } = newRequest('apr_back');
      await store.createRequest(request, events);
      const pending = await rowOf('apr_back');
      await deniedRequest('apr_other');
      await store.updateRequest('apr_back', (current) => ({ request: { ...current, status: 'denied', granted: false }, events: [{ type: 'request.denied', requestId: 'apr_back', actor: 'ana', detail: {} }], result: null }));
      await factory.sql(`UPDATE approval_requests SET status = 'pending', body = ?, state_hash = ?, ${entryColumn} = ? WHERE id = ?`, [pending?.body, pending?.state_hash, pending?.entry, 'apr_back']);

      await expect(store.updateRequest('apr_back', approve)).rejects.toThrow(/rolled back/);
      await expect(store.getRequest('apr_back')).rejects.toSatisfy(isTampered);
      expect(await store.getRequest('apr_other')).toMatchObject({ status: 'denied' }); // others are unaffected
    });

    it('refuses a row whose state event was cut from the log', async () => {
      await deniedRequest('apr_cut');
      await factory.sql('DELETE FROM audit_log WHERE sequence > 1 OR sequence IS NULL'); // PostgreSQL: sequenced or not yet
      await expect(store.updateRequest('apr_cut', approve)).rejects.toThrow(/entry #\d+ does not exist/);
      expect((await store.readAudit()).map((entry) => entry.type)).toEqual(['request.created', 'state.tampered']);
    });

    it('lets the sweeper skip a tampered overdue row, audited once however often it sweeps', async () => {
      const { request, events } = newRequest('apr_late');
      await store.createRequest(request, events);
      await factory.sql('UPDATE approval_requests SET body = ? WHERE id = ?', [JSON.stringify({ ...request, args: { to: 'mallory', amount: 1 } }), 'apr_late']);
      let changeCalled = false;
      const expire = (current: ApprovalRequest) => ((changeCalled = true), { request: { ...current, status: 'expired' as const }, events: [], result: null });
      const afterDeadline = new Date(start.getTime() + 11 * 60_000);
      expect(await store.updateOverdue(afterDeadline, 100, expire)).toBe(0);
      expect(await store.updateOverdue(afterDeadline, 100, expire)).toBe(0);
      expect(changeCalled).toBe(false);
      expect((await store.readAudit()).filter((entry) => entry.type === 'state.tampered')).toEqual([expect.objectContaining({ requestId: 'apr_late' })]);
    });

    it('migrates a database from before state binding: its rows are bound as found, once', async () => {
      await store.close();
      await factory.createLegacy();
      const { request, events } = newRequest('apr_old');
      const chained: AuditEntry[] = [];
      for (const [index, event] of events.entries()) chained.push(sealAuditEntry(event, index + 1, start.toISOString(), chained.at(-1)?.hash ?? GENESIS_HASH));
      await factory.sql('INSERT INTO approval_requests (id, requester, idempotency_key, status, tool, created_at, expires_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        request.id, request.requester, null, request.status, request.tool, request.createdAt, request.expiresAt, JSON.stringify(request),
      ]);
      for (const entry of chained) await factory.sql('INSERT INTO audit_log (sequence, hash, body) VALUES (?, ?, ?)', [entry.sequence, entry.hash, JSON.stringify(entry)]);
      await factory.sql("INSERT INTO outbox (id, channel, topic, request_id, target, next_attempt_at, created_at) VALUES ('msg_old', 'webhook', 'approval.created', 'apr_old', 'x', ?, ?)", [start.toISOString(), start.toISOString()]);

      store = await factory.reopen();
      expect(await store.getRequest('apr_old')).toEqual(request);
      const audit = await store.readAudit();
      expect(audit.at(-1)).toMatchObject({ type: 'request.updated', requestId: 'apr_old', detail: { reason: expect.stringContaining('upgrade') }, stateHash: hashRequestState(request) });
      expect(verifyAuditChain(audit)).toBeUndefined();
      expect(compareRequestStates(audit, await store.readRequestStates())).toEqual([]);
      expect(await store.claimOutbox(new Date(start.getTime() + 1_000), 10, 1_000)).toEqual([expect.objectContaining({ id: 'msg_old', topic: 'approval.created', requestId: 'apr_old' })]);
      expect(await store.updateRequest('apr_old', approve)).toBe('approved');

      // Only that migration adopts rows: one inserted behind the store's back later is refused.
      await store.close();
      store = await factory.reopen();
      expect(await store.readAudit()).toHaveLength(audit.length + 1);
      const stray = newRequest('apr_stray').request;
      await factory.sql('INSERT INTO approval_requests (id, requester, idempotency_key, status, tool, created_at, expires_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
        stray.id, stray.requester, null, 'approved', stray.tool, stray.createdAt, stray.expiresAt, JSON.stringify({ ...stray, status: 'approved', granted: true }),
      ]);
      await expect(store.getRequest('apr_stray')).rejects.toThrow(/no state_hash/);
    });

    it('reads the chain head and queues deliveries that concern no request', async () => {
      expect(await store.readAuditHead()).toBeUndefined();
      const { request, events } = newRequest('apr_h');
      await store.createRequest(request, events);
      const audit = await store.readAudit();
      const head = await store.readAuditHead();
      expect(head).toEqual({ sequence: audit.at(-1)?.sequence, hash: audit.at(-1)?.hash, at: audit.at(-1)?.at });
      await store.enqueueOutbox([{ channel: 'webhook', topic: 'audit.head', head: head!, target: 'https://witness.example.com/heads' }]);
      const [claimed] = await store.claimOutbox(new Date(Date.now() + 1_000), 10, 30_000);
      expect(claimed).toMatchObject({ topic: 'audit.head', head, target: 'https://witness.example.com/heads', attempts: 0 });
      expect(await store.readAudit()).toHaveLength(audit.length); // queuing a head is not itself an event (it would move the head)
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
