import { randomBytes } from 'node:crypto';
import type { ApprovalRequest, Guard } from '@signoff/core';
import { applyDecision, type DecisionInput, type DecisionOutcome } from './engine/apply-decision.js';
import { claimExecution, type ClaimInput, type ClaimOutcome } from './engine/claim-execution.js';
import { expireIfOverdue } from './engine/expire-if-overdue.js';
import { DEFAULT_GRANT_TTL_MS, openApprovalRequest, type ApprovalRequestInput } from './engine/open-approval-request.js';
import { reportExecution, type ExecutionReport, type ReportOutcome } from './engine/report-execution.js';
import { canApprove } from './engine/quorum.js';
import type { Reviewer } from './engine/reviewer.js';
import type { AuditEventInput } from './audit/audit-event.js';
import type { Channel } from './channels/channel.js';
import type { OutboxMessageInput, RequestTopic } from './store/outbox-message.js';
import { ANY_REQUEST, type ApprovalFilter, type RequestChange, type Store } from './store/store.js';

/** Pending requests read per page while looking for what a reviewer can decide. */
const LIST_PAGE = 500;
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
  readonly defaultTimeoutMs: number;
  /** How long a grant stays usable when its rule does not say (`grant_ttl_minutes`; default 24 h). */
  readonly defaultGrantTtlMs?: number;
  /** Channels that deliver events (webhooks, Slack, email); their deliveries go through the outbox. */
  readonly channels?: readonly Channel[];
  readonly now?: () => Date;
}

/** What creating a request did: made it, found the one this idempotency key made, or refused a reused key. */
export type CreateOutcome =
  | { readonly kind: 'created' | 'replayed'; readonly request: ApprovalRequest }
  | { readonly kind: 'conflict'; readonly request: ApprovalRequest; readonly reason: string };

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
  const waiters = new Map<string, Set<(why: 'change' | 'shutdown') => void>>();
  const channels = options.channels ?? [];
  const defaults = { timeoutMs: options.defaultTimeoutMs, grantTtlMs: options.defaultGrantTtlMs ?? DEFAULT_GRANT_TTL_MS };
  let closing = false;

  /** One outbox message per channel target, written in the transaction that caused the event. */
  const outboxFor = (topic: RequestTopic, request: ApprovalRequest): OutboxMessageInput[] =>
    channels.flatMap((channel) => channel.targets(topic, request).map((target) => ({ channel: channel.name, topic, requestId: request.id, target })));
  /** The deliveries a change causes: a resolution when the request leaves `pending`. */
  const resolutionOutbox = (before: ApprovalRequest, after: ApprovalRequest | undefined): OutboxMessageInput[] =>
    after && before.status === 'pending' && after.status !== 'pending' ? outboxFor('approval.resolved', after) : [];
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
    const { request, events } = openApprovalRequest(input, {
      id: `apr_${randomBytes(15).toString('base64url')}`,
      requester: principal.name,
      now: now(),
      decision: guard(input.tool, input.args, input.context),
      defaultTimeoutMs: defaults.timeoutMs,
      defaultGrantTtlMs: defaults.grantTtlMs,
    });
    const stored = await store.createRequest(request, events, outboxFor(request.status === 'pending' ? 'approval.created' : 'approval.resolved', request));
    if (stored.created) return { kind: 'created', request: stored.request };
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
   * Lists requests newest first. For `actionableBy`, pending requests are scanned page by page until
   * `limit` that reviewer can decide now are found: what others must decide never hides theirs.
   */
  async function list(filter: ApprovalFilter & { actionableBy?: Reviewer }): Promise<ApprovalRequest[]> {
    const { actionableBy, ...storeFilter } = filter;
    if (!actionableBy) return store.listRequests(storeFilter);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const time = now().getTime();
    const actionable = (request: ApprovalRequest) =>
      Date.parse(request.expiresAt) > time &&
      canApprove(actionableBy, request) &&
      ![request.requester, request.onBehalfOf, ...ownersOf(request.requester)].includes(actionableBy.id) &&
      !request.decisions.some((decision) => decision.reviewer === actionableBy.id && decision.argsHash === request.approvedArgsHash);
    const found: ApprovalRequest[] = [];
    let before = storeFilter.before;
    for (;;) {
      const page = await store.listRequests({ ...storeFilter, status: 'pending', limit: LIST_PAGE, ...(before ? { before } : {}) });
      found.push(...page.filter(actionable));
      const last = page.at(-1);
      if (found.length >= limit || page.length < LIST_PAGE || !last) return found.slice(0, limit);
      before = { createdAt: last.createdAt, id: last.id };
    }
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
      return { ...(changed ? { request: outcome.request } : {}), events: outcome.events, outbox: resolutionOutbox(current, outcome.request), result: outcome };
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
    let wake: (why: 'change' | 'shutdown') => void = () => {};
    const woken = new Promise<'change' | 'shutdown' | 'timer'>((resolve) => (wake = resolve));
    const listeners = waiters.get(id) ?? new Set();
    waiters.set(id, listeners.add(wake));
    const cancel = () => {
      listeners.delete(wake);
      if (listeners.size === 0 && waiters.get(id) === listeners) waiters.delete(id);
    };
    return {
      cancel,
      async wait(ms: number): Promise<'change' | 'shutdown' | 'timer'> {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timer'>((resolve) => (timer = setTimeout(() => resolve('timer'), ms)));
        const why = await Promise.race([woken, timedOut]);
        clearTimeout(timer);
        cancel();
        return why;
      },
    };
  }

  /** Expires overdue requests (each once, even across replicas). */
  async function sweep(limit = 500): Promise<number> {
    return store.updateOverdue(now(), limit, expireChange);
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
    get,
    list,
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
    close, reviewerById: (id: string) => reviewerById.get(id) };
}

export type ApprovalService = ReturnType<typeof createApprovalService>;
