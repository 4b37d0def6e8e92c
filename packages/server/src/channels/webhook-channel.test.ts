import { createSignoff, SignoffError, verifyWebhook, type ApprovalWebhookEvent } from '@signoff/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../__fixtures__/webhook-receiver.js';
import { startLocalControlPlane, type LocalControlPlane } from '../local-control-plane.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const policy = 'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate }\n';

describe('signed webhooks from the outbox', () => {
  let controlPlane: LocalControlPlane;
  let endpoint: WebhookReceiver;
  let callback: WebhookReceiver;

  beforeAll(async () => {
    endpoint = await startWebhookReceiver();
    callback = await startWebhookReceiver({ failures: 2 });
    controlPlane = await startLocalControlPlane({ policy, webhooks: { secret, endpoints: [endpoint.url], firstRetrySeconds: 0.05, callbackAllow: ['http://127.0.0.1:*'] } });
  });
  afterAll(async () => {
    await controlPlane.close();
    await endpoint.close();
    await callback.close();
  });

  it('delivers created and resolved events, signed, retrying a failing callback with the same webhook-id', async () => {
    const signoff = createSignoff({ policy, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const request = await signoff.requestApproval(signoff.guard('payment.send', { amount: 5 }), { callbackUrl: callback.url });
    await controlPlane.decide(request.id, 'ana', 'approve');

    await expect.poll(() => callback.received.length, { timeout: 10_000 }).toBe(3);
    const attempts = callback.received.map(({ headers, body }) => verifyWebhook(secret, headers as Record<string, string>, body));
    expect(new Set(attempts.map((event) => event.id)).size).toBe(1); // one delivery, retried
    expect(attempts[2]).toMatchObject({ type: 'approval.resolved', data: { id: request.id, status: 'approved', granted: true } });

    await expect.poll(() => endpoint.received.length, { timeout: 10_000 }).toBe(2);
    const events = endpoint.received.map(({ headers, body }) => verifyWebhook(secret, headers as Record<string, string>, body) as ApprovalWebhookEvent);
    expect(events.map((event) => event.type)).toEqual(['approval.created', 'approval.resolved']);
  });

  it('refuses a tampered body, a wrong secret and a stale timestamp', () => {
    const { headers, body } = endpoint.received[0]!;
    const flat = headers as Record<string, string>;
    const invalid = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return SignoffError.isInstance(error) && error.code === 'WEBHOOK_INVALID';
      }
      return false;
    };
    expect(invalid(() => verifyWebhook(secret, flat, body.replace('"pending"', '"approved"')))).toBe(true);
    expect(invalid(() => verifyWebhook('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', flat, body))).toBe(true);
    expect(invalid(() => verifyWebhook(secret, { ...flat, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3_600) }, body))).toBe(true);
  });

  it('refuses callbackUrl when the server has no webhook secret', async () => {
    const bare = await startLocalControlPlane({ policy });
    const signoff = createSignoff({ policy, controlPlane: { url: bare.url, apiKey: bare.agentKey } });
    await expect(signoff.requestApproval(signoff.guard('payment.send', {}), { callbackUrl: 'http://127.0.0.1:9/x' })).rejects.toThrow(/CALLBACKS_DISABLED/);
    await bare.close();
  });
});
