import { Webhook } from 'standardwebhooks';
import { SignoffError } from '../errors/signoff-error.js';
import type { ApprovalRequest } from '../spec/approval-request.js';

/** A verified Signoff webhook. */
export interface ApprovalWebhookEvent {
  /** `webhook-id`: the same on every retry of one delivery — de-duplicate on it. */
  readonly id: string;
  readonly type: 'approval.created' | 'approval.resolved';
  readonly timestamp: string;
  /** The request as the control plane saw it when the event was sent. */
  readonly data: ApprovalRequest;
}

/**
 * Verifies a Signoff webhook (Standard Webhooks: HMAC-SHA256 over id, timestamp and the raw body,
 * timestamps within 5 minutes) and returns its event. Pass the raw body text, before any JSON
 * parsing. Throws `SignoffError('WEBHOOK_INVALID')` for a bad signature, a stale or missing
 * timestamp, or missing headers. A verified `approval.resolved` tells you to resume; still run only
 * what `checkApproval` allows.
 *
 * @example
 * app.post('/signoff/webhook', async (c) => {
 *   const event = verifyWebhook(process.env.SIGNOFF_WEBHOOK_SECRET!, c.req.header(), await c.req.text());
 *   if (event.type === 'approval.resolved') await resumeRun(event.data.id);
 *   return c.body(null, 204);
 * });
 */
export function verifyWebhook(
  secret: string,
  headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>,
  body: string,
): ApprovalWebhookEvent {
  const read = (name: string): string => {
    const value = headers instanceof Headers ? headers.get(name) : (headers[name] ?? headers[name.toLowerCase()]);
    return (Array.isArray(value) ? value[0] : value) ?? '';
  };
  const webhookHeaders = { 'webhook-id': read('webhook-id'), 'webhook-timestamp': read('webhook-timestamp'), 'webhook-signature': read('webhook-signature') };
  let payload: unknown;
  try {
    payload = new Webhook(secret).verify(body, webhookHeaders);
  } catch (error) {
    throw new SignoffError('WEBHOOK_INVALID', `webhook refused: ${(error as Error).message}`, { cause: error });
  }
  const event = payload as Omit<ApprovalWebhookEvent, 'id'>;
  if (!event || (event.type !== 'approval.created' && event.type !== 'approval.resolved') || typeof event.data?.id !== 'string') {
    throw new SignoffError('WEBHOOK_INVALID', 'webhook refused: the payload is not a Signoff approval event');
  }
  return { id: webhookHeaders['webhook-id'], ...event };
}
