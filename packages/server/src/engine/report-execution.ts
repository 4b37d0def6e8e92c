import type { ApprovalRequest } from '@signoff/core';
import type { AuditEventInput } from '../audit/audit-event.js';

/** What an agent reports after running a claimed call. */
export interface ExecutionReport {
  readonly principal: string;
  /** The nonce of the claim that ran it. */
  readonly nonce: string;
  readonly outcome: 'succeeded' | 'failed';
  /** A short note (an error message, a payment id); audited. */
  readonly detail?: string;
}

export type ReportOutcome =
  | { readonly kind: 'recorded'; readonly request: ApprovalRequest; readonly events: AuditEventInput[] }
  | { readonly kind: 'refused'; readonly code: 'NOT_EXECUTED' | 'NONCE_MISMATCH' | 'ALREADY_REPORTED'; readonly reason: string; readonly events: AuditEventInput[] };

/**
 * Records how a claimed call ended (optional for agents; audited). Only the claim's own attempt
 * (its nonce) may report, once; repeating the same report is recognised as a retry.
 *
 * @example
 * const outcome = reportExecution(request, { principal: 'payments-agent', nonce, outcome: 'succeeded' }, new Date());
 */
export function reportExecution(request: ApprovalRequest, report: ExecutionReport, now: Date): ReportOutcome {
  const refuse = (code: 'NOT_EXECUTED' | 'NONCE_MISMATCH' | 'ALREADY_REPORTED', reason: string): ReportOutcome => ({
    kind: 'refused',
    code,
    reason,
    events: [{ type: 'execution.refused', requestId: request.id, actor: report.principal, channel: 'api', detail: { code, reason, outcome: report.outcome } }],
  });
  const { execution } = request;
  if (request.status !== 'executed' || !execution) return refuse('NOT_EXECUTED', 'nothing was claimed for this request: claim it before running the call');
  if (execution.nonce !== report.nonce) return refuse('NONCE_MISMATCH', 'this is not the claim that ran the call');
  if (execution.outcome !== undefined) {
    if (execution.outcome === report.outcome) return { kind: 'recorded', request, events: [] };
    return refuse('ALREADY_REPORTED', `the outcome was already reported as ${execution.outcome}`);
  }
  const reportedAt = now.toISOString();
  return {
    kind: 'recorded',
    request: { ...request, execution: { ...execution, outcome: report.outcome, reportedAt } },
    events: [
      {
        type: 'execution.reported',
        requestId: request.id,
        actor: report.principal,
        channel: 'api',
        detail: { outcome: report.outcome, ...(report.detail ? { detail: report.detail } : {}) },
      },
    ],
  };
}
