import type { AuditHead } from '../audit/audit-head.js';

/**
 * What happened to a request that channels deliver: it opened (notify reviewers), it resolved
 * (notify the agent), or it is still pending but changed (an intermediate approval: Slack redraws).
 */
export type RequestTopic = 'approval.created' | 'approval.resolved' | 'approval.updated';

/** Notices about no single request: an agent hit its escalation budget; a reviewer's email digest is due. */
export type NoticeTopic = 'budget.exceeded' | 'email.digest';

/** Everything the outbox delivers: request events, notices, and the audit chain head published to witnesses. */
export type OutboxTopic = RequestTopic | NoticeTopic | 'audit.head';

/** An agent's call was refused by its escalation budget (told once per breach). */
export interface BudgetNotice {
  readonly agent: string;
  readonly budget: 'max_pending' | 'max_escalations_per_hour';
  readonly limit: number;
  readonly count: number;
  /** The refused call's tool. */
  readonly tool: string;
  readonly at: string;
}

/** A reviewer's digest: one per reviewer and window (`window` is the window's end, ISO), so replicas and retries never send two. */
export interface DigestNotice {
  readonly reviewerId: string;
  readonly window: string;
  /**
   * Set on a follow-up: the id of the window's digest that a sender had already claimed when a
   * request of that window committed (the sender reads what waits after claiming, so it may have
   * missed the request); the follow-up is due at once and lists what waits then.
   */
  readonly after?: string;
}

/** A delivery about a request, written in the same transaction as the change that caused it, so none is ever lost. */
export interface RequestOutboxMessageInput {
  /** The channel that delivers it (`webhook`, `slack`, `email`, …). */
  readonly channel: string;
  readonly topic: RequestTopic;
  readonly requestId: string;
  /** Where, in the channel's terms: a URL, an email address, a Slack channel. */
  readonly target: string;
}

/** A publication of the audit chain head (it concerns no request; the head is fixed when queued, so retries send the same). */
export interface AuditHeadOutboxMessageInput {
  readonly channel: string;
  readonly topic: 'audit.head';
  readonly head: AuditHead;
  readonly target: string;
}

/** A notice to deliver; `dueAt` holds it back until then (digests wait for their window to close). */
export type NoticeOutboxMessageInput =
  | { readonly channel: string; readonly topic: 'budget.exceeded'; readonly notice: BudgetNotice; readonly target: string; readonly dueAt?: Date }
  | { readonly channel: string; readonly topic: 'email.digest'; readonly notice: DigestNotice; readonly target: string; readonly dueAt?: Date };

/** A delivery to make. */
export type OutboxMessageInput = RequestOutboxMessageInput | AuditHeadOutboxMessageInput | NoticeOutboxMessageInput;

/** What the store adds to a queued delivery. Its `id` is stable across retries (webhooks send it as `webhook-id`, so receivers can de-duplicate). */
export interface OutboxDelivery {
  readonly id: string;
  /** Attempts made so far (before this one). */
  readonly attempts: number;
  readonly createdAt: string;
  readonly lastError: string | undefined;
}

export type RequestOutboxMessage = RequestOutboxMessageInput & OutboxDelivery;
export type AuditHeadOutboxMessage = AuditHeadOutboxMessageInput & OutboxDelivery;
export type NoticeOutboxMessage = NoticeOutboxMessageInput & OutboxDelivery;
/** A stored delivery. */
export type OutboxMessage = RequestOutboxMessage | AuditHeadOutboxMessage | NoticeOutboxMessage;

/** How a delivery attempt ended. */
export type OutboxSettlement =
  | { readonly outcome: 'delivered' }
  | { readonly outcome: 'retry'; readonly at: Date; readonly error: string }
  | { readonly outcome: 'failed'; readonly error: string };
