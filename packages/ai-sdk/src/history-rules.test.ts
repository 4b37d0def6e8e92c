import { randomUUID } from 'node:crypto';
import { createSignoff, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { generateText, stepCountIs, type ModelMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callId, paymentTools } from './__fixtures__/payments.js';
import { createSignoffAiSdk } from './create-signoff-ai-sdk.js';
import { scriptedModel } from './testing/index.js';

/**
 * A running total through the recommended setup (`toolApproval` + wrapped tools): each allowed call
 * is judged twice (the pause and the tool's own gate) and must count once in the control plane's sum.
 */
const POLICY = `
version: 1
default: deny
rules:
  - id: small-payments
    tool: payment_send
    action: allow
    when: { args.amount: { lte: 100 } }
  - id: split-payments
    tool: payment_send
    action: escalate
    when:
      window: { within: 1h, per: [args.to] }
      sum(args.amount): { gt: 1000 }
    metadata: { approver_roles: [finance] }
  - { id: payments, tool: payment_send, action: allow }
`;

let controlPlane: LocalControlPlane;
let signoff: Signoff;
const executed: Array<{ tool: string; input: unknown }> = [];
beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: POLICY });
  signoff = createSignoff({ policy: POLICY, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
});
afterAll(async () => controlPlane?.close());

describe('history rules through the AI SDK recommended setup and a real control plane', () => {
  it('counts each allowed payment once; the payment whose total passes 1000 pauses, and runs once approved', async () => {
    const chat = `chat-${randomUUID()}`;
    const ai = createSignoffAiSdk(signoff, { idempotencyKey: (call) => `${chat}:${call.toolCallId}` });
    const tools = ai.tools(paymentTools(executed));
    const to = `vendor-${randomUUID().slice(0, 8)}`;
    const pay = async (amount: number) => {
      const model = scriptedModel([{ toolCalls: [{ id: callId('pay'), name: 'payment_send', input: { to, amount } }] }, { text: 'Done.' }, { text: 'Done.' }, { text: 'Done.' }]);
      const messages: ModelMessage[] = [{ role: 'user', content: `Pay ${to} ${amount}` }];
      const run = () => generateText({ model, messages, tools, toolApproval: ai.toolApproval, stopWhen: stepCountIs(5) });
      messages.push(...(await run()).responseMessages);
      return { messages, run };
    };

    for (let index = 0; index < 5; index += 1) await pay(100);
    await signoff.flushCalls();
    const recorded = async () => (await controlPlane.history!.list(0)).filter((call) => (call.args as { to: string }).to === to);
    expect(await recorded()).toHaveLength(5);

    // 500 + 400 = 900: allowed by the control plane (counted twice it would be 1400 and pause).
    await pay(400);
    expect(executed.filter((call) => (call.input as { to: string }).to === to)).toHaveLength(6);

    const crossing = await pay(200);
    expect(executed.filter((call) => (call.input as { to: string }).to === to)).toHaveLength(6);
    const [request] = (await controlPlane.actionable('ana')).filter((entry) => entry.idempotencyKey?.startsWith(chat));
    expect(request).toMatchObject({ status: 'pending', ruleId: 'split-payments', args: { to, amount: 200 } });
    await controlPlane.decide(request!.id, 'ana', 'approve');
    const { messages } = await ai.resolveApprovals(crossing.messages, { wait: true });
    crossing.messages.splice(0, crossing.messages.length, ...messages);
    await crossing.run();
    await crossing.run(); // the same resumed history sent again: nothing runs twice
    expect(executed.filter((call) => (call.input as { to: string }).to === to).map((call) => (call.input as { amount: number }).amount)).toEqual([100, 100, 100, 100, 100, 400, 200]);
  });
});
