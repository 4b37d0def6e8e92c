import type { ApprovalChannel } from '@signoff/core';

/** Every kind of thing the audit log records. */
export type AuditEventType =
  | 'request.created'
  | 'request.approved'
  | 'request.denied'
  | 'request.expired'
  | 'request.requirements_changed'
  | 'request.refused'
  | 'decision.recorded'
  | 'decision.refused'
  | 'execution.claimed'
  | 'execution.refused'
  | 'execution.reported'
  | 'access.refused'
  | 'delivery.failed';

/** An event to append; the log adds sequence, time and hashes. */
export interface AuditEventInput {
  readonly type: AuditEventType;
  /** The request concerned, if any. */
  readonly requestId?: string;
  /** Who acted: a reviewer id, an agent principal, `system` (sweeper), or `unknown`. */
  readonly actor: string;
  readonly channel?: ApprovalChannel | 'system';
  /** Event-specific facts (verdict, reason of a refusal, status reached, …). */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** An event as stored: chained to the one before by `previousHash`. */
export interface AuditEntry extends AuditEventInput {
  readonly sequence: number;
  readonly at: string;
  readonly previousHash: string;
  /** sha256 over the canonical JSON of the entry without `hash` — which includes `previousHash`. */
  readonly hash: string;
}
