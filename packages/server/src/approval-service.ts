import { hash as oneShotHash } from 'node:crypto';
import { compilePolicy, gatherHistoryFacts, hashArgs, historyKeysOf, type ApprovalRequest, type Decision, type Guard, type RecordedCall } from '@signoff/core';
import type { CallHistory, CallToRecord } from './store/call-history.js';
import { applyDecision, type DecisionInput, type DecisionOutcome } from './engine/apply-decision.js';
import { claimExecution, type ClaimInput, type ClaimOutcome } from './engine/claim-execution.js';
import { expireIfOverdue } from './engine/expire-if-overdue.js';
import { DEFAULT_GRANT_TTL_MS, openApprovalRequest, type ApprovalRequestInput } from './engine/open-approval-request.js';
import { reportExecution, type ExecutionReport, type ReportOutcome } from './engine/report-execution.js';
import type { Reviewer } from './engine/reviewer.js';
import type { AuditEventInput } from './audit/audit-event.js';
import type { Channel } from './channels/channel.js';
import type { EscalationBudget } from './config/server-config.js';
import type { BudgetNotice, OutboxMessageInput, RequestTopic } from './store/outbox-message.js';
import { timeOrderedId } from './store/time-ordered-id.js';
import { ANY_REQUEST, type ApprovalFilter, type BudgetExceeded, type RequestChange, type Store } from './store/store.js';

/** A waiter re-reads its request at least this often, whatever notifications say. */
const REREAD_MS = 5_000;

/** Who is calling: resolved from an API key (or, later, a channel's own identity check). */
export interface Principal {
  readonly name: string;
  readonly kind: 'agent' | 'reviewer';
  /** For reviewer principals. */
  readonly reviewer?: Reviewer;
}

export interface ApprovalServiceOptions {
  readonly store: Store;
  /** The server's own policy: the authority on what a call needs. */
  readonly guard: Guard;
  readonly reviewers: readonly Reviewer[];
  /** Reviewers who own each agent principal (cannot approve its requests). */
  readonly ownersOf?: (agent: string) => readonly string[];
  /** The agent principals a reviewer owns (the inverse of `ownersOf`): left out of what they may act on. */
  readonly ownedBy?: (reviewer: string) => readonly string[];
  readonly defaultTimeoutMs: number;
  /** How long a grant stays usable when its rule does not say (`grant_ttl_minutes`; default 24 h). */
  readonly defaultGrantTtlMs?: number;
  /** Channels that deliver events (webhooks, Slack, email); their deliveries go through the outbox. */
  readonly channels?: readonly Channel[];
  /** The call history: used when the policy has history conditions or shadow rules (else nothing is recorded). */
  readonly history?: CallHistory;
  /** Each agent key's escalation budget (`escalation_budget`); `undefined` = unlimited. */
  readonly budgetOf?: (agent: string) => EscalationBudget | undefined;
  readonly now?: () => Date;
}

/**
 * What makes two calls of one agent key "the same call" for de-duplication: tool, args, the user it
 * acts for, the context, and what the policy made of it. A call for another user (whose own
 * requests they may not approve) or in another context is never folded into this one.
 */
function dedupeKeyOf(request: ApprovalRequest): string {
  return hashArgs({ tool: request.tool, argsHash: request.argsHash, onBehalfOf: request.onBehalfOf ?? null, context: request.context ?? null, ruleId: request.ruleId, policyHash: request.policyHash });
}

/** The error code of a call refused by its agent's escalation budget (HTTP 429). */
export const ESCALATION_BUDGET_EXCEEDED = 'ESCALATION_BUDGET_EXCEEDED';

/**
 * What creating a request did: made it, found the one this idempotency key made, folded it into the
 * identical request already pending (`deduplicated`), refused a reused key, or refused it because
 * the agent is over its escalation budget.
 */
export type CreateOutcome =
  | { readonly kind: 'created' | 'replayed' | 'deduplicated'; readonly request: ApprovalRequest }
  | { readonly kind: 'conflict'; readonly request: ApprovalRequest; readonly reason: string }
  | { readonly kind: 'over_budget'; readonly exceeded: BudgetExceeded; readonly reason: string };

/** Told of each changed request id (`ANY_REQUEST` when changes may have been missed), and once of shutdown. */
export interface ChangeWatcher {
  change(id: string): void;
  shutdown(): void;
}

/** How a wait ended. `shutdown` means the server is stopping: ask again (another replica may answer). */
export type WaitOutcome = { readonly request: ApprovalRequest; readonly ended: 'resolved' | 'timeout' | 'shutdown' };

/**
 * The control plane's operations, shared by the HTTP API and every channel: create (the server
 * policy decides), read (an overdue request expires on read), list, decide (the one approval
 * engine, in the request's transaction), wait (wakes on any commit), and sweep overdue requests.
 */
export function createApprovalService(options: ApprovalServiceOptions) {
  const { store, guard } = options;
  const now = options.now ?? (() => new Date());
  const reviewerById = new Map(options.reviewers.map((reviewer) => [reviewer.id, reviewer]));
  const ownersOf = options.ownersOf ?? (() => []);
  const ownedBy = options.ownedBy ?? (() => []);
  const waiters = new Map<string, Set<(why: 'change' | 'shutdown' | 'timer') => void>>();
  const channels = options.channels ?? [];
  const defaults = { timeoutMs: options.defaultTimeoutMs, grantTtlMs: options.defaultGrantTtlMs ?? DEFAULT_GRANT_TTL_MS };
  let closing = false;
  const compiledForHistory = options.history ? compilePolicy(guard.policy) : undefined;
  const recording = options.history && compiledForHistory?.recordsCalls ? { compiled: compiledForHistory, history: options.history } : undefined;

  /** One outbox message per channel target, written in the transaction that caused the event. */
  const outboxFor = (topic: RequestTopic, request: ApprovalRequest): OutboxMessageInput[] =>
    channels.flatMap((channel) => channel.targets(topic, request).map((target) => ({ channel: channel.name, topic, requestId: request.id, target })));
  /** The deliveries a change causes: a resolution when the request leaves `pending`. */
  const resolutionOutbox = (before: ApprovalRequest, after: ApprovalRequest | undefined): OutboxMessageInput[] =>
    after && before.status === 'pending' && after.status !== 'pending' ? outboxFor('approval.resolved', after) : [];
  /**
   * A decision that leaves the request pending (an intermediate approval) is announced as
   * `approval.updated`, so messages elsewhere (Slack) show who approved and what is still missing.
   * Slack redraws its own clicks at once, so its decisions need no delivery.
   */
  const progressOutbox = (before: ApprovalRequest, after: ApprovalRequest | undefined, channel: string): OutboxMessageInput[] =>
    after && after !== before && before.status === 'pending' && after.status === 'pending' ? outboxFor('approval.updated', after).filter((message) => message.channel !== channel) : [];
  /** Budget breach notices: one per channel target. */
  const budgetOutbox = (notice: BudgetNotice): OutboxMessageInput[] =>
    channels.flatMap((channel) => (channel.budgetTargets?.(notice) ?? []).map((target) => ({ channel: channel.name, topic: 'budget.exceeded' as const, notice, target })));
  /** The digests a new pending request joins (one queued per reviewer and window; the store drops repeats). */
  const digestOutbox = (request: ApprovalRequest, at: Date): OutboxMessageInput[] =>
    request.status !== 'pending'
      ? []
      : channels.flatMap((channel) =>
          (channel.digestTargets?.(request, at) ?? []).map(({ target, reviewerId, dueAt }) => ({
            channel: channel.name,
            topic: 'email.digest' as const,
            notice: { reviewerId, window: dueAt.toISOString() },
            target,
            dueAt,
          })),
        );
  /** Expires a request if it is overdue (fail-closed), with its audit events and deliveries; the result is the request as it stands. */
  const expireChange = (current: ApprovalRequest): RequestChange<ApprovalRequest> => {
    const expiry = expireIfOverdue(current, now());
    return expiry
      ? { request: expiry.request, events: expiry.events, outbox: resolutionOutbox(current, expiry.request), result: expiry.request }
      : { events: [], result: current };
  };
  const watchers = new Set<ChangeWatcher>();
  const stopListening = store.onRequestChanged((id) => {
    // ANY_REQUEST: notifications may have been lost (a dropped LISTEN connection): everyone re-reads.
    const woken = id === ANY_REQUEST ? [...waiters.values()] : [waiters.get(id) ?? new Set()];
    for (const set of woken) for (const wake of [...set]) wake('change');
    for (const watcher of [...watchers]) watcher.change(id);
  });

  /**
   * Creates a request, or returns the one this requester's idempotency key already made. The same
   * key for another tool or other args is a conflict (Stripe's semantics), refused and audited: a
   * replay must never stand in for a different call.
   */
  async function create(principal: Principal, input: ApprovalRequestInput): Promise<CreateOutcome> {
    if (!recording) return createDecided(principal, input, guard(input.tool, input.args, input.context));
    const { compiled, history } = recording;
    const call = { tool: input.tool, args: input.args, ...(input.context ? { context: input.context } : {}) };
    const keys = historyKeysOf(compiled, call);
    // Decide and record under the partitions' locks: a concurrent call on any replica sees this one.
    return history.serialize(keys, async () => {
      const at = now().getTime();
      // A retried create (same key) records nothing new; a new call gets a new id.
      const id = input.idempotencyKey === undefined ? timeOrderedId('req_', at) : `req_${sha256OfText(`${principal.name}\0${input.idempotencyKey}`)}`;
      const facts = await gatherHistoryFacts(compiled, call, history, at, { excludeId: id });
      const match = compiled.evaluateWithHistory(call.tool, call.args, call.context, facts);
      const local = guard(input.tool, input.args, input.context);
      const decision: Decision = { ...local, action: match.action, ruleId: match.ruleId, unknownPath: match.unknownPath, reason: compiled.renderReason(match, call.args, call.context), approval: match.approval ?? undefined, receipt: local.receipt };
      await history.record([{ call: recordedCall(principal, id, at, call, match, await shadowOf(call, at, id)), keys }]);
      return createDecided(principal, input, decision);
    });
  }

  /** What the shadow rules would have decided, when the policy has any. */
  async function shadowOf(call: { tool: string; args: unknown; context?: Readonly<Record<string, unknown>> }, at: number, id: string): Promise<Pick<RecordedCall, 'shadowAction' | 'shadowRuleId'>> {
    const shadow = recording?.compiled.shadow;
    if (!recording || !shadow) return {};
    const facts = shadow.historyConditions.length === 0 ? [] : await gatherHistoryFacts(shadow, call, recording.history, at, { excludeId: id });
    const match = shadow.evaluateWithHistory(call.tool, call.args, call.context, facts);
    return { shadowAction: match.action, shadowRuleId: match.ruleId };
  }

  function recordedCall(
    principal: Principal,
    id: string,
    at: number,
    call: { tool: string; args: unknown; context?: Readonly<Record<string, unknown>> },
    match: { action: RecordedCall['action']; ruleId: string | null },
    shadow: Pick<RecordedCall, 'shadowAction' | 'shadowRuleId'>,
  ): RecordedCall {
    return { id, at, tool: call.tool, args: call.args, context: call.context, action: match.action, ruleId: match.ruleId, ...shadow, policyHash: guard.policy.hash, requester: principal.name };
  }

  /**
   * Records calls the agent ran on its own `allow` (reported in batches, `POST /v1/calls`), so
   * aggregates count them. The server's policy re-decides each without history: the recorded
   * rule is the server's. Nothing happens when the policy records no calls. Returns how many were taken.
   */
  async function recordReported(principal: Principal, calls: readonly { id: string; tool: string; args: unknown; context?: Readonly<Record<string, unknown>> | undefined }[]): Promise<number> {
    if (!recording) return 0;
    const at = now().getTime();
    const entries: CallToRecord[] = [];
    for (const reported of calls) {
      const call = { tool: reported.tool, args: reported.args, ...(reported.context ? { context: reported.context } : {}) };
      const id = `rep_${sha256OfText(`${principal.name}\0${reported.id}`)}`;
      const match = recording.compiled.evaluate(call.tool, call.args, call.context);
      // The agent ran it: it counts as allowed, whichever rule the server would have named.
      const decided = { action: 'allow' as const, ruleId: match.action === 'allow' ? match.ruleId : null };
      entries.push({ call: recordedCall(principal, id, at, call, decided, await shadowOf(call, at, id)), keys: historyKeysOf(recording.compiled, call) });
    }
    await recording.history.record(entries);
    return entries.length;
  }

  async function createDecided(principal: Principal, input: ApprovalRequestInput, decision: Pick<Decision, 'action' | 'ruleId' | 'reason' | 'approval' | 'receipt'>): Promise<CreateOutcome> {
    const openedAt = now();
    const { request, events } = openApprovalRequest(input, {
      id: timeOrderedId('apr_', openedAt.getTime()),
      requester: principal.name,
      now: openedAt,
      decision,
      defaultTimeoutMs: defaults.timeoutMs,
      defaultGrantTtlMs: defaults.grantTtlMs,
    });
    const at = now();
    const budget = options.budgetOf?.(principal.name);
    const refusalReason = (exceeded: BudgetExceeded) =>
      exceeded.budget === 'max_pending'
        ? `escalation budget exceeded: agent '${principal.name}' already has ${exceeded.count} requests waiting for review (max_pending ${exceeded.limit}); not sent for approval — wait for reviewers to decide those first`
        : `escalation budget exceeded: agent '${principal.name}' opened ${exceeded.count} approval requests in the last hour (max_escalations_per_hour ${exceeded.limit}); not sent for approval`;
    const stored = await store.createRequestChecked(request, events, [...outboxFor(request.status === 'pending' ? 'approval.created' : 'approval.resolved', request), ...digestOutbox(request, at)], {
      now: at,
      // The same call already waiting for review: one request, so reviewers are asked once.
      dedupe: {
        key: dedupeKeyOf(request),
        events: (existing) => [
          {
            type: 'request.deduplicated',
            requestId: existing.id,
            actor: principal.name,
            channel: 'api',
            detail: { tool: request.tool, argsHash: request.argsHash, ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}) },
          },
        ],
      },
      ...(budget && {
        budget: {
          ...budget,
          refusal: (exceeded, firstOfBreach) => ({
            events: [
              {
                type: 'request.refused',
                actor: principal.name,
                channel: 'api',
                detail: { code: ESCALATION_BUDGET_EXCEEDED, ...exceeded, reason: refusalReason(exceeded), tool: request.tool, argsHash: request.argsHash, reviewersNotified: firstOfBreach },
              },
            ],
            outbox: firstOfBreach ? budgetOutbox({ agent: principal.name, ...exceeded, tool: request.tool, at: at.toISOString() }) : [],
          }),
        },
      }),
    });
    if (stored.kind === 'over_budget') return { kind: 'over_budget', exceeded: stored.exceeded, reason: refusalReason(stored.exceeded) };
    if (stored.kind === 'created' || stored.kind === 'deduplicated') return { kind: stored.kind, request: stored.request };
    const existing = stored.request;
    if (existing.tool === request.tool && existing.argsHash === request.argsHash) return { kind: 'replayed', request: existing };
    const reason = `idempotency key '${input.idempotencyKey}' was already used for ${existing.id} (${existing.tool === request.tool ? 'other args' : `tool ${existing.tool}`}); use a new key for a different call`;
    await store.appendAudit([
      { type: 'request.refused', requestId: existing.id, actor: principal.name, channel: 'api', detail: { code: 'IDEMPOTENCY_CONFLICT', reason, tool: request.tool, argsHash: request.argsHash } },
    ]);
    return { kind: 'conflict', request: existing, reason };
  }

  /** Reads a request; a pending one past its deadline is expired (fail-closed) before it is returned. */
  async function get(id: string): Promise<ApprovalRequest | undefined> {
    const request = await store.getRequest(id);
    if (!request || request.status !== 'pending' || Date.parse(request.expiresAt) > now().getTime()) return request;
    return store.updateRequest(id, expireChange);
  }

  /**
   * Lists requests, newest first (or soonest deadline first). For `actionableBy`, the store answers
   * what that reviewer can decide now with one indexed query: what others must decide never hides theirs.
   */
  async function list(filter: ApprovalFilter & { actionableBy?: Reviewer; backward?: boolean }): Promise<ApprovalRequest[]> {
    const { actionableBy, backward, ...storeFilter } = filter;
    if (!actionableBy) return store.listRequests(storeFilter);
    const { status: _pending, idempotencyKey: _key, ...page } = storeFilter;
    return store.listActionable({ ...page, ...(backward ? { backward } : {}), reviewer: actionableBy.id, roles: actionableBy.roles, ownedRequesters: ownedBy(actionableBy.id), now: now() });
  }

  /** How many requests a reviewer can decide now, in all (optionally of one tool or requester). */
  async function countActionable(reviewer: Reviewer, filter: { tool?: string; requester?: string } = {}): Promise<number> {
    return store.countActionable({ ...filter, reviewer: reviewer.id, roles: reviewer.roles, ownedRequesters: ownedBy(reviewer.id), now: now() });
  }

  async function decide(id: string, input: DecisionInput): Promise<DecisionOutcome | undefined> {
    return store.updateRequest(id, (current) => {
      const outcome = applyDecision(current, input, {
        now: now(),
        guard,
        defaults,
        requesterOwners: ownersOf(current.requester),
        reviewerById: (reviewerId) => reviewerById.get(reviewerId),
      });
      const changed = outcome.request !== current;
      return {
        ...(changed ? { request: outcome.request } : {}),
        events: outcome.events,
        outbox: [...resolutionOutbox(current, outcome.request), ...progressOutbox(current, outcome.request, input.channel)],
        result: outcome,
      };
    });
  }

  /** Uses a grant once, just before the agent runs the call (see `claimExecution`). */
  async function claim(id: string, input: ClaimInput): Promise<ClaimOutcome | undefined> {
    return store.updateRequest(id, (current) => {
      const outcome = claimExecution(current, input, { now: now(), policyHash: guard.policy.hash });
      const changed = outcome.request !== current;
      return { ...(changed ? { request: outcome.request } : {}), events: outcome.events, outbox: resolutionOutbox(current, outcome.request), result: outcome };
    });
  }

  /** Records how a claimed call ended (see `reportExecution`). */
  async function report(id: string, input: ExecutionReport): Promise<ReportOutcome | undefined> {
    return store.updateRequest(id, (current) => {
      const outcome = reportExecution(current, input, now());
      const changed = outcome.kind === 'recorded' && outcome.request !== current;
      return { ...(changed ? { request: outcome.request } : {}), events: outcome.events, result: outcome };
    });
  }

  /** Resolves when the request leaves `pending`, when `timeoutMs` passes, or when the server shuts down. */
  /** Waits until `id` leaves `pending` (or the timeout, or shutdown); `undefined` if there is no such request, or `visible` refuses it. */
  async function waitForResolution(id: string, timeoutMs: number, visible?: (request: ApprovalRequest) => boolean): Promise<WaitOutcome | undefined> {
    const giveUpAt = Date.now() + timeoutMs;
    for (;;) {
      // Listen before reading, so a decision landing in between still wakes us.
      const change = nextChange(id);
      const next = await readForWait(id, change, giveUpAt, visible);
      if (typeof next !== 'number') return next;
      // On shutdown the next turn re-reads and answers 'shutdown' (or the resolution, if it just landed).
      await change.wait(next);
    }
  }

  /**
   * One turn of a wait: the outcome, or how long to wait for a change. A function of its own so the
   * request it reads is not kept while the wait sleeps (10,000 waiters would keep 10,000 copies).
   */
  async function readForWait(id: string, change: ReturnType<typeof nextChange>, giveUpAt: number, visible?: (request: ApprovalRequest) => boolean): Promise<WaitOutcome | undefined | number> {
    const request = await get(id).catch((error: unknown) => {
      change.cancel();
      throw error;
    });
    if (request && visible && !visible(request)) {
      change.cancel();
      return undefined;
    }
    if (!request || request.status !== 'pending') {
      change.cancel();
      return request && { request, ended: 'resolved' };
    }
    const remaining = giveUpAt - Date.now();
    if (closing || remaining <= 0) {
      change.cancel();
      return { request, ended: closing ? 'shutdown' : 'timeout' };
    }
    // Also wake at the deadline, so the wait returns the expiry rather than a stale pending state.
    const untilDeadline = Date.parse(request.expiresAt) - now().getTime() + 5;
    // Re-read now and then too: a notification lost on a silently dead connection must not stall a wait.
    return Math.max(0, Math.min(remaining, untilDeadline, REREAD_MS));
  }

  /** A one-shot wake-up for the next committed change to `id` (or shutdown). */
  function nextChange(id: string) {
    // One promise, settled by whichever comes first: a change, shutdown, or the timer; whichever
    // it is also cleans up (10,000 sleeping waits hold 10,000 of these, so nothing chained to it).
    let settle: (why: 'change' | 'shutdown' | 'timer') => void = () => {};
    const woken = new Promise<'change' | 'shutdown' | 'timer'>((resolve) => (settle = resolve));
    let timer: NodeJS.Timeout | undefined;
    const listeners = waiters.get(id) ?? new Set();
    const cancel = () => {
      clearTimeout(timer);
      listeners.delete(wake);
      if (listeners.size === 0 && waiters.get(id) === listeners) waiters.delete(id);
    };
    const wake = (why: 'change' | 'shutdown' | 'timer') => {
      cancel();
      settle(why);
    };
    waiters.set(id, listeners.add(wake));
    return {
      cancel,
      wait(ms: number): Promise<'change' | 'shutdown' | 'timer'> {
        timer = setTimeout(wake, ms, 'timer');
        return woken;
      },
    };
  }

  let sweeping: Promise<number> | undefined;
  /**
   * Expires every overdue request (each once, even across replicas), `batchSize` per transaction,
   * yielding to the event loop between batches so the API keeps answering during a burst of
   * thousands. A sweep asked for while one runs joins it. `onBatch` hears each batch's count.
   */
  async function sweep(options: { batchSize?: number; onBatch?: (expired: number) => void | Promise<void> } = {}): Promise<number> {
    sweeping ??= (async () => {
      const batchSize = options.batchSize ?? 200;
      let total = 0;
      try {
        for (;;) {
          const expired = await store.updateOverdue(now(), batchSize, expireChange);
          total += expired;
          await options.onBatch?.(expired);
          // Fewer than asked: nothing more is due (or what is left is tampered or held by another replica).
          if (expired < batchSize || closing) return total;
          await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        sweeping = undefined;
      }
    })();
    return sweeping;
  }

  async function recordRefusal(event: AuditEventInput): Promise<void> {
    await store.appendAudit([event]);
  }

  async function recordRefusals(events: readonly AuditEventInput[]): Promise<void> {
    await store.appendAudit(events);
  }

  /** Stops taking waits and releases every waiting client with `shutdown`. */
  function close(): void {
    closing = true;
    stopListening();
    for (const set of waiters.values()) for (const wake of [...set]) wake('shutdown');
    for (const watcher of [...watchers]) watcher.shutdown();
    watchers.clear();
  }

  /** Hears every committed request change (on any replica) until the returned function is called or the service closes. */
  function watchChanges(watcher: ChangeWatcher): () => void {
    if (closing) {
      watcher.shutdown();
      return () => {};
    }
    watchers.add(watcher);
    return () => watchers.delete(watcher);
  }

  return {
    create,
    recordReported,
    /** Whether this policy records calls (history conditions or shadow rules): agents' reports are kept only then. */
    recordsCalls: recording !== undefined,
    get,
    list,
    countActionable,
    decide,
    claim,
    report,
    waitForResolution,
    watchChanges,
    sweep,
    recordRefusal,
    recordRefusals,
    /** Ends an inbox session for good (sign-out), on every replica. */
    endSession: (sessionId: string, expiresAt: Date) => store.endSession(sessionId, expiresAt),
    sessionEnded: (sessionId: string) => store.sessionEnded(sessionId),
    /** Every audit entry about one request, in order (for its page). */
    auditTrail: (requestId: string) => store.readRequestAudit(requestId),
    close, reviewerById: (id: string) => reviewerById.get(id) };
}

export type ApprovalService = ReturnType<typeof createApprovalService>;

function sha256OfText(text: string): string {
  return oneShotHash('sha256', text, 'hex');
}
