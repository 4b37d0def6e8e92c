/** What happened to a request that channels deliver: it opened (notify reviewers) or it resolved (notify the agent). */
export type OutboxTopic = 'approval.created' | 'approval.resolved';

/** A delivery to make, written in the same transaction as the change that caused it, so none is ever lost. */
export interface OutboxMessageInput {
  /** The channel that delivers it (`webhook`, `slack`, `email`, …). */
  readonly channel: string;
  readonly topic: OutboxTopic;
  readonly requestId: string;
  /** Where, in the channel's terms: a URL, an email address, a Slack channel. */
  readonly target: string;
}

/** A stored delivery. Its `id` is stable across retries (webhooks send it as `webhook-id`, so receivers can de-duplicate). */
export interface OutboxMessage extends OutboxMessageInput {
  readonly id: string;
  /** Attempts made so far (before this one). */
  readonly attempts: number;
  readonly createdAt: string;
  readonly lastError: string | undefined;
}

/** How a delivery attempt ended. */
export type OutboxSettlement =
  | { readonly outcome: 'delivered' }
  | { readonly outcome: 'retry'; readonly at: Date; readonly error: string }
  | { readonly outcome: 'failed'; readonly error: string };
