import { createSignoff } from '@signoff/core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../__fixtures__/webhook-receiver.js';
import { checkExpectedHead } from '../audit/audit-head.js';
import { startLocalControlPlane, type LocalControlPlane } from '../local-control-plane.js';
import type { AuditHeadWebhookPayload } from './webhook-channel.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const policy = 'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate }\n';

describe('the audit head published to witnesses', () => {
  let witness: WebhookReceiver;
  let controlPlane: LocalControlPlane;
  beforeAll(async () => {
    witness = await startWebhookReceiver({ failures: 1 }); // every first attempt fails: heads go through the outbox's retries
    controlPlane = await startLocalControlPlane({ policy, webhooks: { secret, endpoints: [witness.url], firstRetrySeconds: 0.05, publishHeadMinutes: 0.002 } });
  });
  afterAll(async () => {
    await controlPlane.close();
    await witness.close();
  });

  /** Heads the witness accepted (a second attempt of one webhook-id), verified as a witness would. */
  const acceptedHeads = () => {
    const seen = new Map<string, AuditHeadWebhookPayload>();
    const accepted: AuditHeadWebhookPayload[] = [];
    for (const { headers, body } of witness.received) {
      const payload = new Webhook(secret).verify(body, headers as Record<string, string>) as AuditHeadWebhookPayload | { type: string };
      if (payload.type !== 'audit.head') continue;
      const id = String(headers['webhook-id']);
      if (seen.has(id)) accepted.push(payload as AuditHeadWebhookPayload);
      seen.set(id, payload as AuditHeadWebhookPayload);
    }
    return accepted;
  };

  it('delivers each new head as a signed audit.head event, retried, that audit verify --expect-head can check', async () => {
    const signoff = createSignoff({ policy, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const request = await signoff.requestApproval(signoff.guard('payment.send', { amount: 5 }));
    await expect.poll(() => acceptedHeads().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const [first] = acceptedHeads();
    expect(first).toEqual({ type: 'audit.head', timestamp: expect.any(String), data: { sequence: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/), at: expect.any(String) } });
    expect(checkExpectedHead(await controlPlane.store.readAudit(), first!.data)).toBeUndefined();

    // The log grows, so a newer head follows; a head is never itself an audit event.
    await controlPlane.decide(request.id, 'ana', 'deny');
    const afterDenial = (await controlPlane.store.readAuditHead())!;
    await expect.poll(() => acceptedHeads().at(-1)?.data.sequence, { timeout: 10_000 }).toBe(afterDenial.sequence);
    expect((await controlPlane.store.readAudit()).every((entry) => entry.type !== ('audit.head' as string))).toBe(true);

    // A witness refuses a head whose sequence was altered after signing.
    const { headers, body } = witness.received.findLast((delivery) => delivery.body.includes(`"sequence":${afterDenial.sequence},`))!;
    const forged = body.replace(/"sequence":\d+/, `"sequence":${afterDenial.sequence + 1000}`);
    expect(forged).not.toBe(body);
    expect(() => new Webhook(secret).verify(forged, headers as Record<string, string>)).toThrow();
  });

  it('publishes nothing while the log has not grown', async () => {
    const published = witness.received.filter(({ body }) => body.includes('"audit.head"')).length;
    await new Promise((resolve) => setTimeout(resolve, 600)); // five publication intervals
    expect(witness.received.filter(({ body }) => body.includes('"audit.head"')).length).toBe(published);
  });
});
