import type { StoredRequestState } from '../store/stored-request-state.js';
import type { AuditEntry } from './audit-event.js';
import { hashRequestState } from './hash-request-state.js';

/** A request whose row and audit log disagree, and how. */
export interface RequestStateMismatch {
  readonly requestId: string;
  readonly problems: readonly string[];
}

/**
 * Replays the log and compares every request's final logged state with its row: the newest
 * `stateHash` logged for a request must equal the row's `state_hash`, the hash of its body, and
 * sit at the row's `audit_sequence`. A row that no state event produced, and logged states of a
 * request that has no row, are reported too. (Events without a state — refusals — may name ids
 * that never existed, e.g. an agent key trying to decide `apr_whatever`; they are not states.)
 * Run it after {@link verifyAuditChain}: it trusts the entries it is given. Empty when all agree.
 *
 * @example
 * for (const mismatch of compareRequestStates(await store.readAudit(), await store.readRequestStates())) {
 *   console.error(`${mismatch.requestId}: ${mismatch.problems.join('; ')}`);
 * }
 */
export function compareRequestStates(entries: Iterable<AuditEntry>, rows: Iterable<StoredRequestState>): RequestStateMismatch[] {
  const newestState: NewestStates = new Map();
  for (const entry of entries) noteState(newestState, entry);
  return compareRowsWithStates(newestState, rows);
}

/** Each request's newest logged state: its entry's sequence and the state hash it committed to. */
export type NewestStates = Map<string, { sequence: number; stateHash: string }>;

/**
 * Records an entry's state, if it logs one (for logs read a page at a time: memory grows with the
 * number of requests, not of entries).
 *
 * @example
 * for await (const entry of readAuditPages(store)) noteState(newest, entry);
 */
export function noteState(newest: NewestStates, entry: AuditEntry): void {
  if (entry.requestId !== undefined && entry.stateHash !== undefined) newest.set(entry.requestId, { sequence: entry.sequence, stateHash: entry.stateHash });
}

/**
 * The comparison of {@link compareRequestStates}, given the newest states already collected.
 *
 * @example
 * const mismatches = compareRowsWithStates(newest, await store.readRequestStates());
 */
export function compareRowsWithStates(newestState: NewestStates, rows: Iterable<StoredRequestState>): RequestStateMismatch[] {
  const mismatches: RequestStateMismatch[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    seen.add(row.id);
    const mismatch = compareRowWithState(row, newestState.get(row.id));
    if (mismatch) mismatches.push(mismatch);
  }
  for (const [requestId, logged] of newestState) if (!seen.has(requestId)) mismatches.push(stateWithoutRow(requestId, logged.sequence));
  return mismatches;
}

/**
 * One row against its request's newest logged state (`undefined`: the log holds none): what
 * {@link compareRowsWithStates} says of it, or `undefined` when they agree.
 *
 * @example
 * const mismatch = compareRowWithState(row, { sequence: 42, stateHash });
 */
export function compareRowWithState(row: StoredRequestState, logged: { sequence: number; stateHash: string } | undefined): RequestStateMismatch | undefined {
  const problems = rowProblems(row, logged);
  return problems.length > 0 ? { requestId: row.id, problems } : undefined;
}

/**
 * A request whose newest logged state is at entry `sequence` but that has no row.
 *
 * @example
 * problems.push(stateWithoutRow('apr_1', 42).problems[0]);
 */
export function stateWithoutRow(requestId: string, sequence: number): RequestStateMismatch {
  return { requestId, problems: [`the log holds states of this request (newest at entry #${sequence}) but it has no row: the row was deleted`] };
}

function rowProblems(row: StoredRequestState, logged: { sequence: number; stateHash: string } | undefined): string[] {
  if (!logged) return ['no audit event produced this row (inserted outside Signoff, or its events were deleted)'];
  const problems: string[] = [];
  const bodyHash = hashBody(row.body);
  if (bodyHash !== logged.stateHash) problems.push(`the row body is not the state logged last, at entry #${logged.sequence}`);
  if (row.stateHash !== logged.stateHash) problems.push(`the row's state_hash ${short(row.stateHash)} is not the logged ${short(logged.stateHash)}`);
  if (row.auditSequence !== logged.sequence) problems.push(`the row points at entry #${row.auditSequence ?? '(none)'}, but its newest logged state is #${logged.sequence}`);
  return problems;
}

function hashBody(body: string): string | undefined {
  try {
    return hashRequestState(JSON.parse(body));
  } catch {
    return undefined;
  }
}

function short(hash: string | undefined): string {
  return hash === undefined ? '(none)' : `${hash.slice(0, 12)}…`;
}
