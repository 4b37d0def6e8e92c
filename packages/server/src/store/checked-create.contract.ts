import { createGuard, parsePolicy, type ApprovalRequest } from '@signoff/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../audit/audit-chain.js';
import type { AuditEventInput } from '../audit/audit-event.js';
import { openApprovalRequest } from '../engine/open-approval-request.js';
import type { OutboxMessageInput } from './outbox-message.js';
import type { BudgetExceeded, CreateChecks, Store } from './store.js';
import type { StoreFactory } from './store.contract.js';

const policy = createGuard(parsePolicy('rules: [{ tool: "read.*", action: allow }, { tool: "**", action: escalate, metadata: { approval_timeout_minutes: 10 } }]'));
const start = new Date('2026-11-24T06:00:00.000Z');
const minutes = (count: number) => new Date(start.getTime() + count * 60_000);

/** A request as the API would open it, for these args (identical args give identical hashes). */
function open(id: string, options: { args?: unknown; idempotencyKey?: string; requester?: string; tool?: string; now?: Date } = {}) {
  const tool = options.tool ?? 'payment.send';
  const args = options.args ?? { to: 'acme', amount: 500 };
  return openApprovalRequest(
    { tool, args, ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}) },
    { id, requester: options.requester ?? 'agent-1', now: options.now ?? start, decision: policy(tool, args), defaultTimeoutMs: 60_000 },
  );
}

/** The checks the approval service passes; records what the callbacks were asked. */
function checks(now: Date, budget?: { maxPending?: number; maxPerHour?: number }) {
  const refusals: { exceeded: BudgetExceeded; first: boolean }[] = [];
  const value: CreateChecks = {
    now,
    dedupe: { key: '', events: (existing): AuditEventInput[] => [{ type: 'request.deduplicated', requestId: existing.id, actor: existing.requester, channel: 'api', detail: {} }] },
    ...(budget && {
      budget: {
        ...budget,
        refusal: (exceeded: BudgetExceeded, first: boolean) => {
          refusals.push({ exceeded, first });
          const outbox: OutboxMessageInput[] = first
            ? [{ channel: 'webhook', topic: 'budget.exceeded', notice: { agent: 'agent-1', ...exceeded, tool: 'payment.send', at: now.toISOString() }, target: 'https://ops.example.com/hook' }]
            : [];
          return { events: [{ type: 'request.refused' as const, actor: 'agent-1', channel: 'api' as const, detail: { code: 'ESCALATION_BUDGET_EXCEEDED', ...exceeded } }], outbox };
        },
      },
    }),
  };
  return { value, refusals };
}

/**
 * What every store does when the approval service creates a request: folds identical pending calls
 * into one, and holds each agent to its escalation budget — with real databases.
 */
export function describeCheckedCreateContract(name: string, factory: Pick<StoreFactory, 'open'>): void {
  describe(`${name} store: checked create (de-duplication, budgets)`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
    });
    // The service's key also covers onBehalfOf, context and rule; here tool and args suffice.
    const create = (opened: { request: ApprovalRequest; events: readonly AuditEventInput[] }, createChecks: CreateChecks) =>
      store.createRequestChecked(opened.request, opened.events, [], createChecks.dedupe ? { ...createChecks, dedupe: { ...createChecks.dedupe, key: `${opened.request.tool}\n${opened.request.argsHash}` } } : createChecks);

    it('folds an identical pending call into the pending request, whatever its idempotency key, and finds it by that key later', async () => {
      const first = open('apr_first_0001', { idempotencyKey: 'run-1:call-1' });
      expect(await create(first, checks(start).value)).toEqual({ kind: 'created', request: first.request });
      const twin = open('apr_twin_00001', { idempotencyKey: 'run-2:call-9', now: minutes(1) });
      expect(await create(twin, checks(minutes(1)).value)).toEqual({ kind: 'deduplicated', request: first.request });
      expect(await store.getRequest('apr_twin_00001')).toBeUndefined();
      // The folded key finds the shared request (adapters look their call up by it on resume) …
      expect((await store.listRequests({ requester: 'agent-1', idempotencyKey: 'run-2:call-9' })).map((request) => request.id)).toEqual(['apr_first_0001']);
      // … and replaying it is a replay of that request, not a new one.
      expect(await create(open('apr_again_0001', { idempotencyKey: 'run-2:call-9', now: minutes(2) }), checks(minutes(2)).value)).toEqual({ kind: 'replayed', request: first.request });
      const audit = await store.readAudit();
      expect(audit.filter((entry) => entry.type === 'request.deduplicated').map((entry) => entry.requestId)).toEqual(['apr_first_0001']);
      expect(verifyAuditChain(audit)).toBeUndefined();
    });

    it('takes creates started together as if one after another: one is created, its twins fold into it, and one that fails fails alone', async () => {
      await create(open('apr_taken_0001', { args: { n: 0 } }), checks(start).value);
      const twins = ['apr_tw_0000001', 'apr_tw_0000002', 'apr_tw_0000003'].map((id, index) => open(id, { idempotencyKey: `run-${index}:call-1` }));
      const others = ['apr_ot_0000001', 'apr_ot_0000002'].map((id, index) => open(id, { args: { n: index + 1 } }));
      // The same id as a stored request: its insert fails (a primary key), in the middle of the others.
      const clash = open('apr_taken_0001', { args: { n: 99 } });
      const outcomes = await Promise.allSettled([...twins, clash, ...others].map((opened) => create(opened, checks(start).value)));
      const kinds = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.kind : 'failed'));
      // Which twin is first is the store's order (SQLite: arrival; PostgreSQL: whichever commits first).
      expect(kinds.slice(0, 3).sort()).toEqual(['created', 'deduplicated', 'deduplicated']);
      expect(kinds.slice(3)).toEqual(['failed', 'created', 'created']);
      const winner = twins[kinds.indexOf('created')]?.request.id;
      expect(await store.getRequest(winner as string)).toMatchObject({ status: 'pending' });
      for (const index of [0, 1, 2]) {
        expect((await store.listRequests({ requester: 'agent-1', idempotencyKey: `run-${index}:call-1` })).map((request) => request.id)).toEqual([winner]);
      }
      const audit = await store.readAudit();
      expect(audit.filter((entry) => entry.type === 'request.created').map((entry) => entry.requestId).sort()).toEqual(['apr_ot_0000001', 'apr_ot_0000002', 'apr_taken_0001', winner].sort());
      expect(audit.filter((entry) => entry.type === 'request.deduplicated')).toHaveLength(2);
      expect(verifyAuditChain(audit)).toBeUndefined();
    });

    it('gives one idempotency key one request under concurrent creates, whatever their args and twins (no budget)', async () => {
      const pending = open('apr_pend_00001', { args: { n: 1 } });
      await create(pending, checks(start).value);
      // The same key at once: with the pending request's args (would fold), with new args (would open), twice.
      const racing = [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 2 }].map((args, index) => open(`apr_race_0000${index}`, { args, idempotencyKey: 'run-1:call-1' }));
      const outcomes = await Promise.all(racing.map((opened) => create(opened, checks(start).value)));
      const owners = await store.listRequests({ requester: 'agent-1', idempotencyKey: 'run-1:call-1' });
      expect(owners).toHaveLength(1);
      expect(outcomes.map((outcome) => (outcome.kind === 'over_budget' ? undefined : outcome.request.id))).toEqual(racing.map(() => owners[0]?.id));
      expect(outcomes.filter((outcome) => outcome.kind === 'replayed')).toHaveLength(3);
      expect(verifyAuditChain(await store.readAudit())).toBeUndefined();
    });

    it('tells listeners of every request it created once committed, when many are created at once', async () => {
      const heard = new Set<string>();
      const stop = store.onRequestChanged((id) => heard.add(id));
      const opened = Array.from({ length: 250 }, (_, index) => open(`apr_heard_${String(index).padStart(5, '0')}`, { args: { n: index } }));
      const outcomes = await Promise.all(opened.map((item) => create(item, checks(start).value)));
      expect(outcomes.every((outcome) => outcome.kind === 'created')).toBe(true);
      await expect.poll(() => opened.filter((item) => heard.has(item.request.id)).length).toBe(opened.length);
      stop();
    });

    it('queues the outbox messages of creates made together with each request, and none for one not created', async () => {
      const message = (requestId: string): OutboxMessageInput => ({ channel: 'webhook', topic: 'approval.created', requestId, target: 'https://example.com/hook' });
      const later = new Date(Date.now() + 60_000);
      const held: OutboxMessageInput = { channel: 'webhook', topic: 'budget.exceeded', notice: { agent: 'agent-1', budget: 'max_pending', limit: 1, count: 1, tool: 'payment.send', at: start.toISOString() }, target: 'https://ops.example.com/hook', dueAt: later };
      const opened = [open('apr_out_000001', { args: { n: 1 } }), open('apr_out_000002', { args: { n: 2 } }), open('apr_out_000003', { args: { n: 1 } })];
      const outcomes = await Promise.all(
        opened.map((item, index) => store.createRequestChecked(item.request, item.events, index === 1 ? [message(item.request.id), held] : [message(item.request.id)], { ...checks(start).value, dedupe: { ...checks(start).value.dedupe!, key: JSON.stringify(item.request.args) } })),
      );
      expect(outcomes.map((outcome) => outcome.kind)).toEqual(['created', 'created', 'deduplicated']);
      const due = await store.claimOutbox(new Date(Date.now() + 1_000), 10, 300_000);
      expect(due.map((queued) => (queued.topic === 'approval.created' ? queued.requestId : queued.topic)).sort()).toEqual(['apr_out_000001', 'apr_out_000002']);
      // The held-back notice waits for its time.
      const whenDue = await store.claimOutbox(new Date(later.getTime() + 1_000), 10, 30_000);
      expect(whenDue.map((queued) => queued.topic)).toEqual(['budget.exceeded']);
    });

    it('keeps other args, other tools, other agents, policy-decided calls and resolved requests apart', async () => {
      await create(open('apr_base_00001'), checks(start).value);
      expect((await create(open('apr_args_00001', { args: { to: 'acme', amount: 501 } }), checks(start).value)).kind).toBe('created');
      expect((await create(open('apr_tool_00001', { tool: 'payment.refund' }), checks(start).value)).kind).toBe('created');
      expect((await create(open('apr_agent_0001', { requester: 'agent-2' }), checks(start).value)).kind).toBe('created');
      expect((await create(open('apr_read_00001', { tool: 'read.file' }), checks(start).value)).kind).toBe('created');
      expect((await create(open('apr_read_00002', { tool: 'read.file' }), checks(start).value)).kind).toBe('created');
      await store.updateRequest('apr_base_00001', (current) => ({ request: { ...current, status: 'denied', resolution: 'denied', resolvedAt: start.toISOString() }, events: [], result: undefined }));
      expect((await create(open('apr_after_0001'), checks(minutes(1)).value)).kind).toBe('created');
    });

    it('opens a new request when the identical one is past its deadline (about to expire)', async () => {
      await create(open('apr_old_000001'), checks(start).value);
      const later = open('apr_new_000001', { now: minutes(11) });
      expect(await create(later, checks(minutes(11)).value)).toEqual({ kind: 'created', request: later.request });
    });

    it('refuses a new pending request past max_pending, tells once per breach, and counts again once one resolves', async () => {
      const budget = { maxPending: 2 };
      await create(open('apr_p1_0000001', { args: { n: 1 } }), checks(start, budget).value);
      await create(open('apr_p2_0000001', { args: { n: 2 } }), checks(start, budget).value);
      const refused = checks(minutes(1), budget);
      expect(await create(open('apr_p3_0000001', { args: { n: 3 } }), refused.value)).toEqual({ kind: 'over_budget', exceeded: { budget: 'max_pending', limit: 2, count: 2 }, notified: true });
      expect(await create(open('apr_p4_0000001', { args: { n: 4 } }), refused.value)).toEqual({ kind: 'over_budget', exceeded: { budget: 'max_pending', limit: 2, count: 2 }, notified: false });
      expect(refused.refusals.map((refusal) => refusal.first)).toEqual([true, false]);
      expect(await store.getRequest('apr_p3_0000001')).toBeUndefined();
      // Policy-decided calls are never counted or refused.
      expect((await create(open('apr_read_00003', { tool: 'read.file' }), refused.value)).kind).toBe('created');
      // The one notice was queued with the first refusal.
      const notices = (await store.claimOutbox(new Date(Date.now() + 1_000), 10, 30_000)).filter((message) => message.topic === 'budget.exceeded');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({ topic: 'budget.exceeded', notice: { agent: 'agent-1', budget: 'max_pending', limit: 2 } });
      // One resolves: the agent is under budget again.
      await store.updateRequest('apr_p1_0000001', (current) => ({ request: { ...current, status: 'approved', resolution: 'ok', resolvedAt: start.toISOString() }, events: [], result: undefined }));
      expect((await create(open('apr_p5_0000001', { args: { n: 5 } }), checks(minutes(2), budget).value)).kind).toBe('created');
      // A new breach within the hour of the last notice is refused, not told again.
      expect(await create(open('apr_p6_0000001', { args: { n: 6 } }), checks(minutes(3), budget).value)).toMatchObject({ kind: 'over_budget', notified: false });
      const audit = await store.readAudit();
      expect(audit.filter((entry) => entry.type === 'request.refused')).toHaveLength(3);
      expect(verifyAuditChain(audit)).toBeUndefined();
    });

    it('does not count requests past their deadline as pending', async () => {
      await create(open('apr_d1_0000001', { args: { n: 1 } }), checks(start, { maxPending: 1 }).value);
      expect((await create(open('apr_d2_0000001', { args: { n: 2 } }), checks(minutes(5), { maxPending: 1 }).value)).kind).toBe('over_budget');
      expect((await create(open('apr_d3_0000001', { args: { n: 3 }, now: minutes(11) }), checks(minutes(11), { maxPending: 1 }).value)).kind).toBe('created');
    });

    it('refuses past max_escalations_per_hour in a rolling hour, resolved requests included', async () => {
      const budget = { maxPerHour: 2 };
      for (const n of [1, 2]) {
        await create(open(`apr_h${n}_0000001`, { args: { n } }), checks(start, budget).value);
        await store.updateRequest(`apr_h${n}_0000001`, (current) => ({ request: { ...current, status: 'denied', resolution: 'no', resolvedAt: start.toISOString() }, events: [], result: undefined }));
      }
      expect(await create(open('apr_h3_0000001', { args: { n: 3 }, now: minutes(59) }), checks(minutes(59), budget).value)).toMatchObject({
        kind: 'over_budget',
        exceeded: { budget: 'max_escalations_per_hour', limit: 2, count: 2 },
      });
      expect((await create(open('apr_h4_0000001', { args: { n: 4 }, now: minutes(61) }), checks(minutes(61), budget).value)).kind).toBe('created');
    });

    it('does not let an identical call count against the budget (it is folded, not opened)', async () => {
      await create(open('apr_s1_0000001'), checks(start, { maxPending: 1 }).value);
      expect((await create(open('apr_s2_0000001', { idempotencyKey: 'k2' }), checks(start, { maxPending: 1 }).value)).kind).toBe('deduplicated');
    });

    it('queues one digest per reviewer and window, however many requests join it (replicas and retries send it once)', async () => {
      const digest = (window: string, dueAt = new Date(Date.now() - 1_000)): OutboxMessageInput => ({ channel: 'email', topic: 'email.digest', notice: { reviewerId: 'ana', window }, target: 'ana@example.com', dueAt });
      await store.enqueueOutbox([digest('2026-11-24T06:05:00.000Z')]);
      await store.enqueueOutbox([digest('2026-11-24T06:05:00.000Z'), digest('2026-11-24T06:10:00.000Z')]);
      const claimed = await store.claimOutbox(new Date(), 10, 30_000);
      expect(claimed.map((message) => (message.topic === 'email.digest' ? message.notice.window : message.topic)).sort()).toEqual(['2026-11-24T06:05:00.000Z', '2026-11-24T06:10:00.000Z']);
      // Held back until due.
      await store.enqueueOutbox([digest('2026-11-24T06:15:00.000Z', new Date(Date.now() + 60_000))]);
      expect(await store.claimOutbox(new Date(), 10, 30_000)).toEqual([]);
    });

    it('holds the budget and de-duplication under concurrent creates', async () => {
      const budget = { maxPending: 3 };
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, index) => create(open(`apr_c${index}_000000${index}`, { args: { n: index % 5 }, idempotencyKey: `key-${index}` }), checks(start, budget).value)),
      );
      const kinds = outcomes.map((outcome) => outcome.kind);
      expect(kinds.filter((kind) => kind === 'created')).toHaveLength(3);
      expect((await store.listRequests({ status: 'pending' })).length).toBe(3);
    });
  });
}
