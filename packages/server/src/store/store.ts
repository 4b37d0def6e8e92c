import type { ApprovalRequest, ApprovalStatus } from '@signoff/core';
import type { AuditEntry, AuditEventInput } from '../audit/audit-event.js';
import type { AuditHead } from '../audit/audit-head.js';
import type { OutboxMessage, OutboxMessageInput, OutboxSettlement } from './outbox-message.js';
import type { StoredRequestState } from './stored-request-state.js';

/** Which requests to list; all filters combine (AND). Newest first. */
export interface ApprovalFilter {
  readonly status?: ApprovalStatus;
  readonly tool?: string;
  readonly requester?: string;
  /** The requester's idempotency key (with `requester`, finds the one request a call made). */
  readonly idempotencyKey?: string;
  /** At most this many (default 100, at most 1,000). */
  readonly limit?: number;
  /** Only requests older than this one (keyset pagination: stable while new requests arrive). */
  readonly before?: { readonly createdAt: string; readonly id: string };
  /** `newest` (default) or `deadline`: soonest `expiresAt` first, then id (page on with `after`). */
  readonly order?: ListOrder;
  /** With `order: 'deadline'`: only requests after this one (its deadline and id). */
  readonly after?: { readonly expiresAt: string; readonly id: string };
  /** Any of these statuses (with `status`, both must hold). */
  readonly statuses?: readonly ApprovalStatus[];
  /** Only requests this reviewer decided (approved or denied, on any args). */
  readonly reviewer?: string;
  /** Only requests created at or after this instant (ISO 8601). */
  readonly createdSince?: string;
  /** Only requests created before this instant (ISO 8601). */
  readonly createdUntil?: string;
  /**
   * Case-insensitive text the stored request contains anywhere: tool, args, reason, context, comments
   * (matched against its JSON, so quotes and backslashes inside values match in their escaped form).
   */
  readonly search?: string;
}

/** How a list is sorted: newest first (by `createdAt`, then id) or soonest deadline first (by `expiresAt`, then id). */
export type ListOrder = 'newest' | 'deadline';

/**
 * What one reviewer may act on now: pending, not past its deadline, needing one of their roles
 * (or any reviewer), not asked by them or on their behalf or by an agent key they own, and not
 * already decided by them on the current args. Answered by an indexed query, so the page is right
 * however many other requests are pending. Pages like {@link ApprovalFilter}.
 */
export interface ActionableQuery {
  /** The reviewer's id. */
  readonly reviewer: string;
  /** The roles the reviewer holds. */
  readonly roles: readonly string[];
  /** Agent keys (requesters) the reviewer owns: their requests are not theirs to approve. */
  readonly ownedRequesters?: readonly string[];
  /** Requests whose deadline is at or before this are left out (the sweeper expires them). */
  readonly now: Date;
  /** Only requests for this tool. */
  readonly tool?: string;
  /** Only requests made by this requester (agent key). */
  readonly requester?: string;
  readonly order?: ListOrder;
  readonly before?: { readonly createdAt: string; readonly id: string };
  readonly after?: { readonly expiresAt: string; readonly id: string };
  /** At most this many (default 100, at most 1,000). */
  readonly limit?: number;
  /** The page just before the position (`before`/`after`) instead of after it, still in list order (a Previous link). */
  readonly backward?: boolean;
}

/**
 * A retention run: the audit entries `from`..`to` (the oldest still in the hot log) go to an archive
 * file with the resolved requests whose state they hold. `to` stops before the state entry of every
 * request that stays (pending, resolved too recently, or with a grant still usable), so each row
 * left in the hot tables keeps the entry that binds it.
 */
export interface ArchivePlan {
  readonly from: number;
  readonly to: number;
  /** Requests resolved before this may go (their `keepUntil` is at or before it). */
  readonly cutoff: Date;
  /** The lease the run holds: the commit refuses (changes nothing) unless it still holds it. */
  readonly lease?: { readonly name: string; readonly holder: string };
}

/** A named lease in the store's database: replicas sharing it take turns at a job (retention). */
export interface Lease {
  readonly name: string;
  /** Who holds it: unique per run (or per process). */
  readonly holder: string;
  /** How long it lasts from now (the database's clock on PostgreSQL), unless renewed or released. */
  readonly ttlMs: number;
}

/** What a change to one request decides: the new state to write (if any), the events to log, a result to return. */
export interface RequestChange<T> {
  readonly request?: ApprovalRequest;
  readonly events: readonly AuditEventInput[];
  /** Deliveries the change causes (committed with it). */
  readonly outbox?: readonly OutboxMessageInput[];
  readonly result: T;
}

/**
 * Durable storage of approval requests and the audit log. Every write happens in one transaction
 * with its audit events, so a request and its log never disagree, and a crash leaves no half state.
 * Each request row is bound to the audit chain: it stores the sequence and `stateHash` of the event
 * that produced its state (the store stamps them itself), and every read checks them — a row that
 * does not match its chain is refused with `SignoffError('STATE_TAMPERED')`, fail-closed.
 * Implementations: SQLite (embedded default) and PostgreSQL (several replicas); one contract test
 * suite runs against both.
 */
export interface Store {
  /**
   * Stores a new request with its events, unless the requester already made one with the same
   * idempotency key: then nothing is written and the existing request comes back (`created: false`).
   * The last event about the request is stamped with the state's hash (or a `request.updated` is added).
   */
  createRequest(
    request: ApprovalRequest,
    events: readonly AuditEventInput[],
    outbox?: readonly OutboxMessageInput[],
  ): Promise<{ request: ApprovalRequest; created: boolean }>;
  /**
   * Like `createRequest`, with the checks that keep reviewers' attention (all in the create
   * transaction, serialized per requester, so they hold across replicas): an idempotency key the
   * requester used before (or that was folded into another request) returns that request;
   * `dedupe` returns the requester's pending request with the same de-duplication key instead of
   * opening another (and remembers the key for it); `budget` refuses a new pending request past
   * the requester's limits. Requests the policy decided outright are never deduplicated or counted.
   */
  createRequestChecked(
    request: ApprovalRequest,
    events: readonly AuditEventInput[],
    outbox: readonly OutboxMessageInput[],
    checks: CreateChecks,
  ): Promise<CheckedCreation>;
  /**
   * Stores many new requests, each with its events, in one transaction (imports, benchmarks): each is
   * bound to its audit event as `createRequest` does. No idempotency lookup: a request whose
   * (requester, idempotency key) or id is taken fails the whole batch, and nothing is written.
   */
  createRequests(items: readonly { readonly request: ApprovalRequest; readonly events: readonly AuditEventInput[] }[]): Promise<void>;
  /** A request, checked against its audit chain (throws `STATE_TAMPERED` when it does not match). */
  getRequest(id: string): Promise<ApprovalRequest | undefined>;
  /** Requests, each checked like `getRequest`; one that does not match fails the whole list (`STATE_TAMPERED`, naming it). */
  listRequests(filter?: ApprovalFilter): Promise<ApprovalRequest[]>;
  /** The page of requests a reviewer may act on now (see {@link ActionableQuery}), each checked like `getRequest`. */
  listActionable(query: ActionableQuery): Promise<ApprovalRequest[]>;
  /** How many requests a reviewer may act on now in all (the query's position and limit are ignored). */
  countActionable(query: ActionableQuery): Promise<number>;
  /**
   * Read-modify-write of one request under a lock: `change` sees the current committed state (no
   * other writer can interleave) and its new state and events are committed together.
   * `undefined` when there is no such request. When the stored state does not match its audit
   * chain, `change` is not called: a `state.tampered` event is appended and `STATE_TAMPERED` thrown.
   */
  updateRequest<T>(id: string, change: (current: ApprovalRequest) => RequestChange<T>): Promise<T | undefined>;
  /**
   * Applies `change` to up to `limit` pending requests whose deadline is at or before `now`, each in
   * its own locked transaction; requests another replica is already handling are skipped, and so
   * are rows that do not match their chain (audited once as `state.tampered`, never changed).
   * Returns how many were changed.
   */
  updateOverdue(now: Date, limit: number, change: (current: ApprovalRequest) => RequestChange<unknown>): Promise<number>;
  /**
   * Claims up to `limit` deliveries that are due at `now` and hides them for `leaseMs`: a replica
   * that crashes mid-delivery leaves them to be claimed again after the lease. Oldest first.
   */
  claimOutbox(now: Date, limit: number, leaseMs: number): Promise<OutboxMessage[]>;
  /** Records how a claimed delivery ended: delivered, retry at a time, or failed for good (audited). */
  settleOutbox(id: string, settlement: OutboxSettlement, events?: readonly AuditEventInput[]): Promise<void>;
  /** Appends events that concern no stored change (refused access, forged tokens, …). */
  appendAudit(events: readonly AuditEventInput[]): Promise<void>;
  /** Queues deliveries that no request change causes (the audit head published to witnesses). */
  enqueueOutbox(messages: readonly OutboxMessageInput[]): Promise<void>;
  /** The whole audit log in sequence order. */
  readAudit(): Promise<AuditEntry[]>;
  /** Every audit entry about one request (created, decisions, edits, refusals, execution, expiry), in sequence order. */
  readRequestAudit(requestId: string): Promise<AuditEntry[]>;
  /** Up to `limit` entries after sequence `after`, in order: reads a log of any size a page at a time. */
  readAuditPage(after: number, limit: number): Promise<AuditEntry[]>;
  /**
   * The next retention run for requests resolved before `cutoff`, or `undefined` when none can go yet.
   * With `maxRequests`, the range stops before the state entry of the request after that many, so a
   * backlog leaves in passes of bounded size (each a bounded transaction) instead of one long one.
   */
  planArchive(cutoff: Date, options?: { readonly maxRequests?: number }): Promise<ArchivePlan | undefined>;
  /** The rows a plan archives, as stored, `limit` at a time in id order after `afterId`. */
  readArchivableRows(plan: ArchivePlan, afterId: string, limit: number): Promise<StoredRequestState[]>;
  /**
   * Moves a written archive out of the hot tables, in one transaction: appends `event` (naming the
   * file and its hash), deletes the rows (each must still be at the audit sequence archived) and the
   * entries `from`..`to`. `false`, with nothing changed, when the log or a row moved meanwhile.
   */
  commitArchive(plan: ArchivePlan, rows: readonly { readonly id: string; readonly auditSequence: number | undefined }[], event: AuditEventInput): Promise<boolean>;
  /**
   * Takes `lease` (or renews it when its holder has it already): `false` while another holder's
   * lease runs. An expired lease goes to whoever asks next.
   */
  acquireLease(lease: Lease): Promise<boolean>;
  /** Gives a lease up before it runs out (nothing happens if another holder has it). */
  releaseLease(name: string, holder: string): Promise<void>;
  /** The sequence of the oldest entry still in the hot log (1 until a retention run archived some), `undefined` while it is empty. */
  readAuditStart(): Promise<number | undefined>;
  /** Records that an inbox session was signed out, so no copy of its cookie works again (until it would have expired anyway). */
  endSession(sessionId: string, expiresAt: Date): Promise<void>;
  /** Whether an inbox session was signed out. */
  sessionEnded(sessionId: string): Promise<boolean>;
  /** The newest audit entry's sequence, hash and time; `undefined` while the log is empty. */
  readAuditHead(): Promise<AuditHead | undefined>;
  /** Every request row as stored, unchecked, with its binding columns, by id — for `audit verify` to compare with the log. */
  readRequestStates(): Promise<StoredRequestState[]>;
  /**
   * The same rows `limit` at a time, in id order after `afterId`, each with its request's newest state
   * entry at or before sequence `through`, found by the log's index columns (`request_id`, `state_hash`):
   * `audit verify` compares rows with the log through the database, in bounded memory.
   */
  readRequestStatesPage(afterId: string, limit: number, through: number): Promise<RequestStateWithNewest[]>;
  /** Up to `limit` entries after sequence `after`, in order, each with the index columns stored beside it (not covered by its hash). */
  readAuditIndexPage(after: number, limit: number): Promise<IndexedAuditEntry[]>;
  /**
   * Requests (in id order after `afterId`, `limit` at a time) that have a state entry at or before
   * `through` — by the index columns — and no row, with the sequence of their newest one.
   */
  readStatesWithoutRows(afterId: string, limit: number, through: number): Promise<{ readonly requestId: string; readonly sequence: number }[]>;
  /**
   * Calls `listener(id)` after a change to a request commits — from this process or, where the store
   * can tell, another replica. `listener(ANY_REQUEST)` means changes may have been missed (a
   * notification connection was lost and is back): re-read everything you wait on.
   */
  onRequestChanged(listener: (id: string) => void): () => void;
  close(): Promise<void>;
}

/** A request row with the newest state entry the log's index finds for it (`undefined`: none). */
export interface RequestStateWithNewest extends StoredRequestState {
  readonly newestState: { readonly sequence: number; readonly stateHash: string } | undefined;
}

/** An audit entry with the `request_id` and `state_hash` columns stored beside it, which reads of a request look up. */
export interface IndexedAuditEntry {
  readonly entry: AuditEntry;
  readonly requestId: string | undefined;
  readonly stateHash: string | undefined;
}

/** Which limit refused a new pending request, the limit, and how many the requester already had. */
export interface BudgetExceeded {
  readonly budget: 'max_pending' | 'max_escalations_per_hour';
  readonly limit: number;
  readonly count: number;
}

/** What `createRequestChecked` checks; the callbacks build the audit events and deliveries (pure). */
export interface CreateChecks {
  readonly now: Date;
  /**
   * Fold an identical pending request into the existing one. `key` says what "identical" is (the
   * service hashes tool, args hash, `onBehalfOf`, context and rule: a call for another user is never
   * folded); `events` are logged when a call is folded.
   */
  readonly dedupe?: { readonly key: string; readonly events: (existing: ApprovalRequest) => readonly AuditEventInput[] };
  readonly budget?: {
    readonly maxPending?: number;
    readonly maxPerHour?: number;
    /**
     * What to log and deliver for a refusal. `firstOfBreach` is true once per breach — the first
     * refusal since the requester last opened a request, and not within an hour of the last notice —
     * so reviewers are told once, not per call.
     */
    readonly refusal: (exceeded: BudgetExceeded, firstOfBreach: boolean) => { readonly events: readonly AuditEventInput[]; readonly outbox: readonly OutboxMessageInput[] };
  };
}

/** How a checked create ended. */
export type CheckedCreation =
  | { readonly kind: 'created' | 'replayed' | 'deduplicated'; readonly request: ApprovalRequest }
  | { readonly kind: 'over_budget'; readonly exceeded: BudgetExceeded; readonly notified: boolean };

/** How long after telling reviewers of a budget breach a new breach by the same agent and budget is not told again. */
export const BUDGET_NOTICE_QUIET_MS = 3_600_000;

/** What `onRequestChanged` passes when any request may have changed unseen. */
export const ANY_REQUEST = '*';
