import type { AuditHead } from '../audit/audit-head.js';

/** What happened to a request that channels deliver: it opened (notify reviewers) or it resolved (notify the agent). */
export type RequestTopic = 'approval.created' | 'approval.resolved';

/** Everything the outbox delivers: request events, and the audit chain head published to witnesses. */
export type OutboxTopic = RequestTopic | 'audit.head';

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

/** A delivery to make. */
export type OutboxMessageInput = RequestOutboxMessageInput | AuditHeadOutboxMessageInput;

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
/** A stored delivery. */
export type OutboxMessage = RequestOutboxMessage | AuditHeadOutboxMessage;

/** How a delivery attempt ended. */
export type OutboxSettlement =
  | { readonly outcome: 'delivered' }
  | { readonly outcome: 'retry'; readonly at: Date; readonly error: string }
  | { readonly outcome: 'failed'; readonly error: string };
