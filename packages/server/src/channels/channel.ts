import type { ApprovalRequest } from '@signoff/core';
import type { Hono } from 'hono';
import type { ApprovalService } from '../approval-service.js';
import type { AuditHeadOutboxMessage, BudgetNotice, NoticeOutboxMessage, RequestOutboxMessage, RequestTopic } from '../store/outbox-message.js';
import type { Store } from '../store/store.js';

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
  /** Where to tell reviewers that an agent hit its escalation budget (once per breach); pure, like `targets`. */
  budgetTargets?(notice: BudgetNotice): readonly string[];
  /**
   * Reviewers who take a digest instead of one message per request: for a new pending request, the
   * digests it joins (`target`) and when each is due. Pure, like `targets`.
   */
  digestTargets?(request: ApprovalRequest, now: Date): readonly { readonly target: string; readonly reviewerId: string; readonly dueAt: Date }[];
  /** Delivers a notice (a budget breach, a due digest); `store` reads what a digest lists. Throws to be retried. */
  deliverNotice?(message: NoticeOutboxMessage, store: Pick<Store, 'listRequests'>): Promise<void>;
  /**
   * Mounts the channel's own HTTP routes (Slack interactions, email links, inbox pages). Decisions
   * made there must go through `service.decide` with the channel's name, like the API's.
   */
  routes?(app: Hono, service: ApprovalService): void;
}
