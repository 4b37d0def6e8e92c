import type { ApprovalRequest } from '@signoff/core';
import type { Hono } from 'hono';
import type { ApprovalService } from '../approval-service.js';
import type { AuditHeadOutboxMessage, RequestOutboxMessage, RequestTopic } from '../store/outbox-message.js';

/**
 * A way approvals reach people or systems (webhooks, Slack, email, the inbox). Channels never
 * decide anything themselves: decisions they receive go through the approval service, like the API's.
 */
export interface Channel {
  /** Stable name, stored with each outbox message (`webhook`, `slack`, `email`). */
  readonly name: string;
  /**
   * Where to deliver an event: one outbox message per target (a URL, an address, a Slack channel).
   * Called inside the transaction that caused the event, so it must be synchronous and pure.
   */
  targets(topic: RequestTopic, request: ApprovalRequest): readonly string[];
  /** Delivers one message about a request (read, and checked against its audit chain, at delivery); throws to be retried later with backoff. */
  deliver(message: RequestOutboxMessage, request: ApprovalRequest): Promise<void>;
  /** Delivers a published audit chain head, for channels that publish heads (webhooks); throws to be retried. */
  deliverHead?(message: AuditHeadOutboxMessage): Promise<void>;
  /**
   * Mounts the channel's own HTTP routes (Slack interactions, email links, inbox pages). Decisions
   * made there must go through `service.decide` with the channel's name, like the API's.
   */
  routes?(app: Hono, service: ApprovalService): void;
}
