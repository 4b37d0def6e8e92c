import { SignoffError } from '@signoff/core';
import type { AuditEventInput } from '../audit/audit-event.js';

/**
 * What a store does with a request row that does not match its audit chain: the `state.tampered`
 * event to append (in its own transaction: the refused change wrote nothing) and the error to throw.
 *
 * @example
 * const tampered = stateTampered('apr_x', ['the row body does not hash to its state_hash']);
 * await appendAudit([tampered.event]);
 * throw tampered.error;
 */
export function stateTampered(requestId: string, problems: readonly string[]): { event: AuditEventInput; error: SignoffError } {
  return {
    event: { type: 'state.tampered', requestId, actor: 'system', channel: 'system', detail: { problems } },
    error: stateTamperedError([{ requestId, problems }]),
  };
}

/** The error for one or more rows that do not match their chain (a list may find several). */
export function stateTamperedError(rows: readonly { requestId: string; problems: readonly string[] }[]): SignoffError {
  const described = rows.map((row) => `${row.requestId} (${row.problems.join('; ')})`).join(', ');
  return new SignoffError(
    'STATE_TAMPERED',
    `approval request ${described} does not match the audit log: refused (fail-closed); run \`signoff audit verify\``,
  );
}
