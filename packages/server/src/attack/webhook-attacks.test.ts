import type { IncomingHttpHeaders } from 'node:http';
import { SignoffError, verifyWebhook } from '@signoff/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../__fixtures__/webhook-receiver.js';
import { startLocalControlPlane, type LocalControlPlane } from '../local-control-plane.js';
import { auditMark, summary } from './attack-helpers.js';

/**
 * Webhook signature tampering. The refusal happens on the receiver, in core's `verifyWebhook`
 * (Standard Webhooks): the control plane cannot audit what a receiver refuses, so each case asserts
 * `WEBHOOK_INVALID` and that the genuine delivery it started from was audited as a created request.
 */

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const policy = 'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate }\n';

let controlPlane: LocalControlPlane;
let receiver: WebhookReceiver;
let genuine: { headers: Record<string, string>; body: string };
let genuineId: string;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  controlPlane = await startLocalControlPlane({ policy, webhooks: { secret, endpoints: [receiver.url], firstRetrySeconds: 0.05 } });

  const mark = await auditMark(controlPlane.store);
  const created = await fetch(`${controlPlane.url}/v1/approvals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${controlPlane.agentKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tool: 'payment.send', args: { to: 'acme', amount: 5 } }),
  }).then((response) => response.json() as Promise<{ id: string }>);
  genuineId = created.id;
  for (const giveUp = Date.now() + 10_000; receiver.received.length === 0 && Date.now() < giveUp; ) await new Promise((resolve) => setTimeout(resolve, 20));
  const first = receiver.received[0] as { headers: IncomingHttpHeaders; body: string };
  genuine = { headers: Object.fromEntries(Object.entries(first.headers).map(([name, value]) => [name, String(value)])), body: first.body };
  expect((await mark.added()).map(summary)).toMatchObject([{ type: 'request.created', requestId: genuineId }]);
});
afterAll(async () => {
  await controlPlane?.close();
  await receiver?.close();
});

const refusal = (headers: Record<string, string>, body: string, key = secret): unknown => {
  try {
    verifyWebhook(key, headers, body);
    return 'accepted';
  } catch (error) {
    return SignoffError.isInstance(error) ? error.code : error;
  }
};

describe('webhook signature tampering', () => {
  it('accepts the genuine delivery (the baseline every tampered copy starts from)', () => {
    expect(verifyWebhook(secret, genuine.headers, genuine.body)).toMatchObject({ type: 'approval.created', data: { id: genuineId, status: 'pending' } });
  });

  it.each([
    ['a body edited after signing (status: pending → approved)', () => [genuine.headers, genuine.body.replace('"status":"pending"', '"status":"approved"')] as const],
    ['a signature byte flipped', () => [{ ...genuine.headers, 'webhook-signature': genuine.headers['webhook-signature']!.replace(/.(?=.{4}$)/, (c) => (c === 'A' ? 'B' : 'A')) }, genuine.body] as const],
    ['a replay with a fresh timestamp (signature for the old one)', () => [{ ...genuine.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) + 1) }, genuine.body] as const],
    ['a stale timestamp (10 minutes old, re-signed is impossible without the secret)', () => [{ ...genuine.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 600) }, genuine.body] as const],
    ['a different webhook-id (dedup key swapped)', () => [{ ...genuine.headers, 'webhook-id': 'msg_forged' }, genuine.body] as const],
    ['no signature header', () => [{ 'webhook-id': genuine.headers['webhook-id']!, 'webhook-timestamp': genuine.headers['webhook-timestamp']! }, genuine.body] as const],
  ])('refuses %s with WEBHOOK_INVALID', (_name, tamper) => {
    const [headers, body] = tamper();
    expect([headers, body]).not.toEqual([genuine.headers, genuine.body]); // the tamper really changed something
    expect(refusal(headers as Record<string, string>, body)).toBe('WEBHOOK_INVALID');
  });

  it('refuses a genuine delivery checked with another secret with WEBHOOK_INVALID', () => {
    expect(refusal(genuine.headers, genuine.body, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe('WEBHOOK_INVALID');
  });
});

describe('server-side request forgery through callbackUrl', () => {
  let guarded: LocalControlPlane;
  beforeAll(async () => {
    guarded = await startLocalControlPlane({ policy, webhooks: { secret, endpoints: [], callbackAllow: ['https://hooks.example.com', 'https://*.partner.example:*'] } });
  });
  afterAll(async () => guarded?.close());

  const create = (callbackUrl: string) =>
    fetch(`${guarded.url}/v1/approvals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${guarded.agentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'payment.send', args: { to: 'acme', amount: 5 }, callbackUrl }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as { error?: { code: string; field?: string }; id?: string } }));

  it.each([
    ['the server’s own admin port on loopback', () => `http://127.0.0.1:${new URL(guarded.url).port}/admin/reset`],
    ['the cloud metadata service', () => 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['a private address', () => 'https://10.0.0.7/hook'],
    ['an allow-listed host on another scheme', () => 'http://hooks.example.com/hook'],
    ['an allow-listed host as a prefix of the attacker’s', () => 'https://hooks.example.com.attacker.net/hook'],
  ])('%s → 400 CALLBACK_NOT_ALLOWED naming callbackUrl, access.refused, nothing created', async (_name, url) => {
    const mark = await auditMark(guarded.store);
    const response = await create(url());
    expect(response).toMatchObject({ status: 400, body: { error: { code: 'CALLBACK_NOT_ALLOWED', field: 'callbackUrl' } } });
    expect((await mark.added()).map(summary)).toMatchObject([{ type: 'access.refused', channel: 'api', actor: 'agent', code: 'CALLBACK_NOT_ALLOWED' }]);
    expect(await guarded.store.listRequests({ limit: 1000 })).toEqual([]);
  });

  it('accepts an allow-listed origin', async () => {
    expect(await create('https://a.partner.example:8443/signoff')).toMatchObject({ status: 201 });
  });
});
