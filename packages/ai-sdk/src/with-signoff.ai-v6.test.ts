/**
 * `npm install ai` on Node 20 may install ai 6, whose `generateText` has no `toolApproval`: the
 * option is silently ignored and every tool call runs. The recommended setup still runs nothing
 * escalated or denied, because the wrapped tool decides again inside its own `execute`.
 */
import { generateText, stepCountIs } from 'ai-v6';
import { MockLanguageModelV3 } from 'ai-v6/test';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { callId, pendingRequest, startPaymentsWorld, type PaymentsWorld } from './__fixtures__/payments.js';
import { signoffToolApproval } from './signoff-tool-approval.js';
import { withSignoff } from './with-signoff.js';

let world: PaymentsWorld;
beforeAll(async () => {
  world = await startPaymentsWorld();
});
afterAll(async () => {
  await world.controlPlane.close();
});

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };

/** An ai 6 model that calls the given tools once, then answers; `told` holds the tool results it read. */
function scriptedV3Model(toolCalls: ReadonlyArray<{ id: string; name: string; input: unknown }>) {
  const told: Array<{ toolCallId: string; output: { type: string; reason?: string; value?: unknown } }> = [];
  let turn = 0;
  const model = new MockLanguageModelV3({
    doGenerate: async ({ prompt }) => {
      if (turn++ === 0) {
        return {
          content: toolCalls.map((call) => ({ type: 'tool-call' as const, toolCallId: call.id, toolName: call.name, input: JSON.stringify(call.input) })),
          finishReason: { unified: 'tool-calls' as const, raw: undefined },
          usage,
          warnings: [],
        };
      }
      for (const message of prompt) if (message.role === 'tool') for (const part of message.content) if (part.type === 'tool-result') told.push(part as never);
      return { content: [{ type: 'text' as const, text: 'Done.' }], finishReason: { unified: 'stop' as const, raw: undefined }, usage, warnings: [] };
    },
  });
  return { model, told: () => new Map(told.map((part) => [part.toolCallId, part.output])) };
}

it('ai 6 ignores toolApproval, yet the recommended setup runs neither the escalated $1,250 nor the denied $20,000 — and the approved call once', async () => {
  const escalated = callId('v6-escalated');
  const denied = callId('v6-denied');
  const calls = [
    { id: escalated, name: 'payment_send', input: { to: 'acme', amount: 1250 } },
    { id: denied, name: 'payment_send', input: { to: 'acme', amount: 20000 } },
  ];
  // The README's recommended setup, handed to ai 6's generateText (the types differ across majors, the runtime shape does not).
  const run = async () => {
    const { model, told } = scriptedV3Model(calls);
    const setup = { tools: withSignoff(world.tools, world.signoff, { wait: false }), toolApproval: signoffToolApproval(world.signoff) };
    await generateText({ model, prompt: 'Pay acme', stopWhen: stepCountIs(5), ...(setup as object) });
    return told();
  };

  const first = await run();
  expect(world.executed).toEqual([]);
  const request = await pendingRequest(world, escalated);
  expect(first.get(escalated)).toEqual({ type: 'execution-denied', reason: `Not run: approval ${request.id} is still pending on the control plane` });
  expect(first.get(denied)).toEqual({ type: 'execution-denied', reason: 'Payments over $10,000 are never made by an agent' });

  await world.controlPlane.decide(request.id, 'ana', 'approve');
  const second = await run();
  expect(world.executed).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 1250 } }]);
  expect(second.get(escalated)).toEqual({ type: 'json', value: { ok: true, tool: 'payment_send' } });

  const third = await run();
  expect(third.get(escalated)?.reason).toMatch(/already used at/);
  expect(world.executed).toHaveLength(1);
});
