import { createSignoff } from '@signoff/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callId, policy, startPaymentsWorld, type PaymentsWorld } from './__fixtures__/payments.js';
import { getToolCallVerdict } from './get-tool-call-verdict.js';

let world: PaymentsWorld;
beforeAll(async () => {
  world = await startPaymentsWorld();
});
afterAll(async () => {
  await world.controlPlane.close();
});

describe('getToolCallVerdict', () => {
  it('answers allow and deny from the local policy without the control plane', async () => {
    const offline = createSignoff({ policy, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'unused', maxAttempts: 1 } });
    expect(await getToolCallVerdict(offline, { toolCallId: 'c1', toolName: 'balance_get', input: {} })).toMatchObject({ status: 'allow', args: {} });
    expect(await getToolCallVerdict(offline, { toolCallId: 'c2', toolName: 'record_delete', input: { id: 'x' } })).toEqual({ status: 'deny', reason: 'Deleting records is not allowed' });
  });

  it('fails closed when the control plane cannot be reached', async () => {
    const offline = createSignoff({ policy, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'unused', maxAttempts: 1 } });
    const verdict = await getToolCallVerdict(offline, { toolCallId: 'c3', toolName: 'payment_send', input: { to: 'acme', amount: 500 } });
    expect(verdict.status).toBe('deny');
    expect(verdict.reason).toMatch(/^Not run \(fail-closed\): control plane at http:\/\/127\.0\.0\.1:9 unavailable/);
  });

  it('refuses a colliding tool call id that replays another call’s request', async () => {
    const id = callId('collide');
    const first = await getToolCallVerdict(world.signoff, { toolCallId: id, toolName: 'payment_send', input: { to: 'acme', amount: 500 } });
    expect(first.status).toBe('pending');
    const other = await getToolCallVerdict(world.signoff, { toolCallId: id, toolName: 'payment_send', input: { to: 'mallory', amount: 900 } });
    expect(other).toMatchObject({ status: 'deny', reason: expect.stringContaining('IDEMPOTENCY_CONFLICT') });
  });
});
