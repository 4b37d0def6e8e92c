import type { ApprovalRequest } from '@signoff/core';
import { Webhook } from 'standardwebhooks';
import type { AuditHead } from '../audit/audit-head.js';
import type { AuditHeadOutboxMessage, BudgetNotice, NoticeOutboxMessage, OutboxMessage, RequestOutboxMessage, RequestTopic } from '../store/outbox-message.js';
import type { CallbackPolicy } from './callback-policy.js';
import type { Channel } from './channel.js';
import { postToCallback } from './post-to-callback.js';

export interface WebhookChannelOptions {
  /** The signing secret (`whsec_…`, base64 after the prefix), shared with receivers. */
  readonly secret: string;
  /** URLs that receive every event (`approval.created`, `approval.resolved`, `budget.exceeded`, and `audit.head` when published). */
  readonly endpoints?: readonly string[];
  /**
   * What agents' `callbackUrl`s may reach (allow-listed origins, no internal addresses unless
   * listed); without it, no callback is delivered. Configured `endpoints` are the operator's own
   * and are not checked.
   */
  readonly callbacks?: CallbackPolicy;
  /** Per-attempt timeout (default 10 s). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** What a Signoff webhook about a request POSTs (JSON). */
export interface ApprovalWebhookPayload {
  readonly type: RequestTopic;
  readonly timestamp: string;
  readonly data: ApprovalRequest;
}

/** What a budget breach POSTs (JSON), once per breach: the agent's further escalations are refused until it is under budget. */
export interface BudgetWebhookPayload {
  readonly type: 'budget.exceeded';
  readonly timestamp: string;
  readonly data: BudgetNotice;
}

/** What a published audit chain head POSTs (JSON): record it, and later check it with `signoff audit verify --expect-head`. */
export interface AuditHeadWebhookPayload {
  readonly type: 'audit.head';
  readonly timestamp: string;
  readonly data: AuditHead;
}

/**
 * Signed webhooks per the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`): configured endpoints get every event; a request's own `callbackUrl` gets
 * its resolution. The `webhook-id` is the outbox message id, the same on every retry.
 *
 * @example
 * const webhooks = createWebhookChannel({ secret: process.env.SIGNOFF_WEBHOOK_SECRET!, endpoints: ['https://ops.example.com/signoff'] });
 */
export function createWebhookChannel(options: WebhookChannelOptions): Channel {
  const signer = new Webhook(options.secret);
  const doFetch = options.fetch ?? fetch;
  const endpoints = options.endpoints ?? [];

  /** POSTs one signed payload; throws on anything but a 2xx, so the outbox retries it. */
  async function post(message: OutboxMessage, payload: (timestamp: string) => ApprovalWebhookPayload | AuditHeadWebhookPayload | BudgetWebhookPayload): Promise<void> {
    const sentAt = new Date();
    const body = JSON.stringify(payload(sentAt.toISOString()));
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Signoff-Webhooks/1',
      'webhook-id': message.id,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': signer.sign(message.id, sentAt, body),
    };
    const timeoutMs = options.timeoutMs ?? 10_000;
    let status: number;
    if (endpoints.includes(message.target)) {
      const response = await doFetch(message.target, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual', // a redirect is not a delivery, and following it could reach somewhere unintended
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      status = response.status;
    } else {
      // An agent chose this URL: only under the callback policy, checked on the address connected to.
      if (!options.callbacks) throw Object.assign(new Error('callbacks are not allowed on this server (webhooks.callback_allow)'), { permanent: true });
      status = await postToCallback(options.callbacks, message.target, { headers, body, timeoutMs });
    }
    if (status < 200 || status >= 300) throw new Error(`HTTP ${status} from ${message.target}`);
  }

  return {
    name: 'webhook',
    targets(topic, request) {
      // Intermediate progress is for reviewers' messages (Slack), not for receivers of outcomes.
      if (topic === 'approval.updated') return [];
      const callback = topic === 'approval.resolved' && request.callbackUrl ? [request.callbackUrl] : [];
      return [...new Set([...callback, ...endpoints])];
    },
    async deliver(message: RequestOutboxMessage, request: ApprovalRequest) {
      await post(message, (timestamp) => ({ type: message.topic, timestamp, data: request }));
    },
    budgetTargets: () => endpoints,
    async deliverNotice(message: NoticeOutboxMessage) {
      if (message.topic !== 'budget.exceeded') throw Object.assign(new Error(`webhooks do not deliver ${message.topic}`), { permanent: true });
      await post(message, (timestamp) => ({ type: 'budget.exceeded', timestamp, data: message.notice }));
    },
    async deliverHead(message: AuditHeadOutboxMessage) {
      const { sequence, hash, at } = message.head;
      await post(message, (timestamp) => ({ type: 'audit.head', timestamp, data: { sequence, hash, at } }));
    },
  };
}
