import type { ApprovalRequest } from '@signoff/core';
import { checkRequestRow, type AuditReference, type RequestRowCheck } from '../audit/check-request-row.js';
import { stateTamperedError } from './state-tampered.js';
import type { AuditEntry } from '../audit/audit-event.js';
import type { IndexedAuditEntry, RequestStateWithNewest } from './store.js';
import type { StoredRequestState } from './stored-request-state.js';

/** A request row joined with the audit evidence its check needs, as both SQL stores select it. */
export interface RequestRow {
  readonly id: string;
  readonly body: string;
  readonly state_hash: string | null;
  readonly audit_sequence: number | string | null;
  /** The audit entry at `audit_sequence`. */
  readonly entry_body: string | null;
  /** The request's newest state event. */
  readonly newest_state_sequence: number | string | null;
  /** PostgreSQL: the chain sequence of the entry at `audit_entry` (null until the sequencer chains it). */
  readonly entry_sequence?: number | string | null;
}

/**
 * The `SELECT … FROM` (alias `r` for the request row) that reads a request with its evidence in
 * one statement, so row and log come from one snapshot. `prefix` is a schema (`"signoff".`).
 * Callers add `WHERE`, `ORDER BY`, `LIMIT`. With `reference: 'entry'` (PostgreSQL) the row names its
 * entry by id (`audit_entry`) and `audit_sequence`/`newest_state_sequence` come back as entry ids.
 *
 * @example
 * db.prepare(`${selectRequestRows()} WHERE r.id = ?`).get(id);
 */
export function selectRequestRows(prefix = '', reference: AuditReference = 'sequence'): string {
  if (reference === 'entry') {
    return `SELECT r.id, r.body, r.state_hash, r.audit_entry AS audit_sequence, a.body AS entry_body, a.sequence AS entry_sequence,
    (SELECT max(l.id) FROM ${prefix}audit_log l WHERE l.request_id = r.id AND l.state_hash IS NOT NULL) AS newest_state_sequence
  FROM ${prefix}approval_requests r LEFT JOIN ${prefix}audit_log a ON a.id = r.audit_entry`;
  }
  return `SELECT r.id, r.body, r.state_hash, r.audit_sequence, a.body AS entry_body,
    (SELECT max(l.sequence) FROM ${prefix}audit_log l WHERE l.request_id = r.id AND l.state_hash IS NOT NULL) AS newest_state_sequence
  FROM ${prefix}approval_requests r LEFT JOIN ${prefix}audit_log a ON a.sequence = r.audit_sequence`;
}

/** Checks a selected row against its chain (PostgreSQL returns BIGINT as text, SQLite NULL as null). */
export function checkRequestRowColumns(row: RequestRow, reference: AuditReference = 'sequence'): RequestRowCheck {
  return checkRequestRow(
    { id: row.id, body: row.body, stateHash: row.state_hash ?? undefined, auditSequence: row.audit_sequence === null ? undefined : Number(row.audit_sequence) },
    {
      entryBody: row.entry_body ?? undefined,
      newestStateSequence: row.newest_state_sequence === null ? undefined : Number(row.newest_state_sequence),
      reference,
      ...(row.entry_sequence == null ? {} : { entrySequence: Number(row.entry_sequence) }),
    },
  );
}

/** Checks every row of a list; any that does not match its chain fails the list, naming each. */
export function checkRequestRows(rows: readonly RequestRow[], reference: AuditReference = 'sequence'): ApprovalRequest[] {
  const tampered: { requestId: string; problems: readonly string[] }[] = [];
  const requests: ApprovalRequest[] = [];
  for (const row of rows) {
    const check = checkRequestRowColumns(row, reference);
    if (check.ok) requests.push(check.request);
    else tampered.push({ requestId: row.id, problems: check.problems });
  }
  if (tampered.length > 0) throw stateTamperedError(tampered);
  return requests;
}

/** One row, checked: its request, or `STATE_TAMPERED` (reads do not audit; changes do). */
export function checkedRequest(row: RequestRow, reference: AuditReference = 'sequence'): ApprovalRequest {
  return checkRequestRows([row], reference)[0] as ApprovalRequest;
}

/** A row of `readRequestStates`, unchecked. */
export function toStoredRequestState(row: { id: string; body: string; state_hash: string | null; audit_sequence: number | string | null }): StoredRequestState {
  return { id: row.id, body: row.body, stateHash: row.state_hash ?? undefined, auditSequence: row.audit_sequence === null ? undefined : Number(row.audit_sequence) };
}

/** A row of `readRequestStatesPage`: the row and its request's newest state entry (null columns: none). */
export type RowWithNewest = { id: string; body: string; state_hash: string | null; audit_sequence: number | string | null; newest_sequence: number | string | null; newest_state_hash: string | null };

/** A `readRequestStatesPage` row, unchecked. */
export function withNewestState(row: RowWithNewest): RequestStateWithNewest {
  const newestState = row.newest_sequence === null || row.newest_state_hash === null ? undefined : { sequence: Number(row.newest_sequence), stateHash: row.newest_state_hash };
  return { ...toStoredRequestState(row), newestState };
}

/** A row of `readAuditIndexPage`: the entry's body and the index columns beside it. */
export type IndexedRow = { body: string; request_id: string | null; state_hash: string | null };

/** A `readAuditIndexPage` row, parsed. */
export function toIndexedEntry(row: IndexedRow): IndexedAuditEntry {
  return { entry: JSON.parse(row.body) as AuditEntry, requestId: row.request_id ?? undefined, stateHash: row.state_hash ?? undefined };
}
