import { generateText, stepCountIs, type ModelMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callId, pendingRequest, startPaymentsWorld, type PaymentsWorld } from './__fixtures__/payments.js';
import { scriptedModel } from './testing/index.js';
import { createSignoffAiSdk } from './create-signoff-ai-sdk.js';

let world: PaymentsWorld;
beforeAll(async () => {
  world = await startPaymentsWorld();
});
afterAll(async () => world.controlPlane.close());

describe('createSignoffAiSdk: the README quick start, one options object', () => {
  it('pauses, resumes once approved, and runs the payment once under the custom idempotency key', async () => {
    const chat = `chat-${callId('readme')}`;
    const ai = createSignoffAiSdk(world.signoff, { idempotencyKey: (call) => `${chat}:${call.toolCallId}` });
    const id = callId('payment');
    const model = scriptedModel([{ toolCalls: [{ id, name: 'payment_send', input: { to: 'acme', amount: 1_250 } }] }, { text: 'Paid.' }]);
    const run = (messages: ModelMessage[]) => generateText({ model, messages, tools: ai.tools(world.tools), toolApproval: ai.toolApproval, stopWhen: stepCountIs(10) });

    const messages: ModelMessage[] = [{ role: 'user', content: 'Pay ACME $1,250' }];
    messages.push(...(await run(messages)).responseMessages);
    const before = world.executed.length;

    // Exactly one request, under the key the options derive: toolApproval, the tools and the resume agree.
    const request = await pendingRequest(world, `${chat}:${id}`);
    await world.controlPlane.decide(request.id, 'ana', 'approve');
    const { messages: resumed, pending } = await ai.resolveApprovals(messages, { wait: true });
    expect(pending).toEqual([]);
    expect((await run(resumed)).text).toBe('Paid.');
    expect(world.executed.slice(before)).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 1_250 } }]);
    expect((await world.signoff.getApproval(request.id)).status).toBe('executed');
    expect((await world.controlPlane.actionable('ana')).filter((entry) => entry.idempotencyKey?.startsWith(chat))).toEqual([]);
  });
});
