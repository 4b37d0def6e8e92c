import type { ApprovalRequest } from '@signoff/core';
import { Webhook } from 'standardwebhooks';
import type { OutboxMessage, OutboxTopic } from '../store/outbox-message.js';
import type { Channel } from './channel.js';

export interface WebhookChannelOptions {
  /** The signing secret (`whsec_…`, base64 after the prefix), shared with receivers. */
  readonly secret: string;
  /** URLs that receive every event (`approval.created` and `approval.resolved`). */
  readonly endpoints?: readonly string[];
  /** Per-attempt timeout (default 10 s). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** What a Signoff webhook POSTs (JSON). */
export interface ApprovalWebhookPayload {
  readonly type: OutboxTopic;
  readonly timestamp: string;
  readonly data: ApprovalRequest;
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
  return {
    name: 'webhook',
    targets(topic, request) {
      const callback = topic === 'approval.resolved' && request.callbackUrl ? [request.callbackUrl] : [];
      return [...new Set([...callback, ...endpoints])];
    },
    async deliver(message: OutboxMessage, request: ApprovalRequest) {
      const sentAt = new Date();
      const payload: ApprovalWebhookPayload = { type: message.topic, timestamp: sentAt.toISOString(), data: request };
      const body = JSON.stringify(payload);
      const response = await doFetch(message.target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Signoff-Webhooks/1',
          'webhook-id': message.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signer.sign(message.id, sentAt, body),
        },
        body,
        redirect: 'manual', // a redirect is not a delivery, and following it could reach somewhere unintended
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.status < 200 || response.status >= 300) throw new Error(`HTTP ${response.status} from ${message.target}`);
    },
  };
}
