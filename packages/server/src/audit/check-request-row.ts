import type { ApprovalRequest } from '@signoff/core';
import { requestFromJson } from '../store/request-json.js';
import type { StoredRequestState } from '../store/stored-request-state.js';
import { entryHashMatches } from './audit-chain.js';
import type { AuditEntry } from './audit-event.js';
import { hashRequestState } from './hash-request-state.js';

/** What the audit log holds about a row's state, read in the same snapshot as the row. */
export interface StateEvidence {
  /** The audit entry at the row's `auditSequence` (its stored JSON), if there is one. */
  readonly entryBody: string | undefined;
  /** The sequence of the request's newest state event (an entry with `stateHash`), if any. */
  readonly newestStateSequence: number | undefined;
  /**
   * What the row's `auditSequence` and `newestStateSequence` count: chain sequences (`sequence`, the
   * default: SQLite seals each entry as it writes it), or entry ids (`entry`: PostgreSQL writers
   * insert entries unsequenced and a sequencer chains them after commit, so an entry may not have
   * a sequence or a hash yet — see docs/audit-log.md).
   */
  readonly reference?: AuditReference;
  /** With `reference: 'entry'`: the chain sequence the entry was given (the `sequence` column), `undefined` while it waits for the sequencer. */
  readonly entrySequence?: number;
}

/** How a request row names the audit entry that produced its state: by chain sequence, or by entry id. */
export type AuditReference = 'sequence' | 'entry';

/** A row that matches its chain (with the request it holds), or what did not match. */
export type RequestRowCheck =
  | { readonly ok: true; readonly request: ApprovalRequest }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Checks that a request row is the state its audit chain produced, before anything trusts it:
 * (a) the body hashes to the row's `state_hash`; (b) the entry at `audit_sequence` exists, is this
 * request's, carries that `stateHash`, and was not edited; (c) no newer state event of the request
 * exists (the row was not rolled back). Cheap enough for every read: one entry, one index lookup.
 * It cannot see a cut of the newest entries made together with a matching row rollback — only a
 * chain head recorded elsewhere (`audit verify --expect-head`) catches that.
 *
 * @example
 * const check = checkRequestRow(row, { entryBody, newestStateSequence });
 * if (!check.ok) throw new SignoffError('STATE_TAMPERED', check.problems.join('; '));
 */
export function checkRequestRow(row: StoredRequestState, evidence: StateEvidence): RequestRowCheck {
  if (matchesVerified(row, evidence)) return { ok: true, request: requestFromJson(JSON.parse(row.body) as object) };
  const problems: string[] = [];
  const body = parseJson(row.body);
  if (body === undefined) problems.push('the row body is not valid JSON');
  if (row.stateHash === undefined) problems.push('the row has no state_hash (it was not written by Signoff)');
  else if (body !== undefined && hashRequestState(body) !== row.stateHash) problems.push('the row body does not hash to its state_hash (the body was changed)');

  if (row.auditSequence === undefined) {
    problems.push('the row has no audit_sequence (no audit event produced it)');
  } else {
    problems.push(...entryProblems(row, row.auditSequence, evidence));
    if (evidence.newestStateSequence !== row.auditSequence) {
      problems.push(
        evidence.newestStateSequence !== undefined && evidence.newestStateSequence > row.auditSequence
          ? `a newer state of this request was logged at entry #${evidence.newestStateSequence}: the row was rolled back`
          : `the log's newest state event for this request is ${evidence.newestStateSequence === undefined ? 'missing' : `#${evidence.newestStateSequence}`}, not #${row.auditSequence}`,
      );
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  rememberVerified(row, evidence);
  return { ok: true, request: requestFromJson(body as object) };
}

/**
 * Rows recently found to match their chain, with exactly what was checked. The check is a pure
 * function of these inputs, so a row read again unchanged with unchanged evidence (a reviewer's
 * list, read page after page) is not hashed again; any difference in any input — a byte of the
 * body or of the entry — is checked in full. Whole strings are compared, never a digest of them,
 * so nothing weaker than the check itself decides. Bounded; the least recently used go first.
 */
const verified = new Map<string, { readonly row: StoredRequestState; readonly evidence: StateEvidence }>();
const VERIFIED_ROWS = 500; // ~1 MB of row and entry text

function matchesVerified(row: StoredRequestState, evidence: StateEvidence): boolean {
  const seen = verified.get(row.id);
  if (
    seen === undefined ||
    seen.row.body !== row.body ||
    seen.row.stateHash !== row.stateHash ||
    seen.row.auditSequence !== row.auditSequence ||
    seen.evidence.entryBody !== evidence.entryBody ||
    seen.evidence.newestStateSequence !== evidence.newestStateSequence ||
    (seen.evidence.reference ?? 'sequence') !== (evidence.reference ?? 'sequence') ||
    seen.evidence.entrySequence !== evidence.entrySequence
  ) {
    return false;
  }
  verified.delete(row.id); // re-inserted as the most recently used
  verified.set(row.id, seen);
  return true;
}

function rememberVerified(row: StoredRequestState, evidence: StateEvidence): void {
  verified.delete(row.id);
  verified.set(row.id, {
    row: { id: row.id, body: row.body, stateHash: row.stateHash, auditSequence: row.auditSequence },
    evidence: { entryBody: evidence.entryBody, newestStateSequence: evidence.newestStateSequence, reference: evidence.reference, entrySequence: evidence.entrySequence },
  });
  if (verified.size > VERIFIED_ROWS) verified.delete(verified.keys().next().value as string);
}

/** What is wrong with the entry a row says produced it. */
function entryProblems(row: StoredRequestState, sequence: number, evidence: StateEvidence): string[] {
  const { entryBody, reference = 'sequence', entrySequence } = evidence;
  if (entryBody === undefined) return [`audit entry #${sequence} does not exist (the log was cut, or the row points past it)`];
  const entry = parseJson(entryBody) as AuditEntry | undefined;
  if (entry === undefined || entry === null || typeof entry !== 'object') return [`audit entry #${sequence} is not valid JSON`];
  const problems: string[] = [];
  // An entry not sequenced yet has no hash to check (PostgreSQL, for the moments before the sequencer chains it);
  // one the sequencer chained must still match its hash and its place, whatever its body now says.
  const sealed = reference === 'sequence' || entrySequence !== undefined || 'hash' in entry;
  if (sealed && !entryHashMatches(entry)) problems.push(`audit entry #${sequence} was modified (its hash does not match its content)`);
  const place = reference === 'sequence' ? sequence : entrySequence;
  if (place !== undefined && entry.sequence !== place) problems.push(`audit entry #${sequence} says it is #${String(entry.sequence)}, not #${place}`);
  if (entry.requestId !== row.id) problems.push(`audit entry #${sequence} belongs to ${entry.requestId ?? 'no request'}, not ${row.id}`);
  else if (entry.stateHash !== row.stateHash) problems.push(`audit entry #${sequence} commits to another state than the row's state_hash`);
  return problems;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
