import type { ApprovalChannel } from '@signoff/core';

/** Every kind of thing the audit log records. */
export type AuditEventType =
  | 'request.created'
  | 'request.approved'
  | 'request.denied'
  | 'request.expired'
  | 'request.requirements_changed'
  | 'request.refused'
  /** An identical call (same agent, tool and args hash) was folded into the request already pending for it. */
  | 'request.deduplicated'
  /** A new state of a request written by a change that logged no event of its own for it (so no state goes unlogged). */
  | 'request.updated'
  | 'decision.recorded'
  | 'decision.refused'
  | 'execution.claimed'
  | 'execution.refused'
  | 'execution.reported'
  | 'access.refused'
  | 'delivery.failed'
  /** A stored request did not match its audit chain; the change was refused (`detail.problems` says what differed). */
  | 'state.tampered'
  /** The server loaded a policy other than the one last in use (`detail`: policyHash, previousPolicyHash, file, rule counts); actor is the OS user@host. */
  | 'policy.loaded'
  /** Retention moved entries `detail.from`..`detail.to` and `detail.requests` resolved requests to the archive file `detail.file` (`detail.sha256`). */
  | 'retention.archived';

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
  /**
   * On the event that produced a request's state: sha256 (hex) of the canonical JSON of that state,
   * as written to its row. Set by the store, never by callers; covered by the entry's hash.
   */
  readonly stateHash?: string;
}

/** An event as stored: chained to the one before by `previousHash`. */
export interface AuditEntry extends AuditEventInput {
  readonly sequence: number;
  readonly at: string;
  readonly previousHash: string;
  /** sha256 over the canonical JSON of the entry without `hash` — which includes `previousHash`. */
  readonly hash: string;
}
