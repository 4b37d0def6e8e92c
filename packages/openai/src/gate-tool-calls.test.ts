import { createSignoff } from '@signoff/core';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { policy, startHarness, type Harness } from './__fixtures__/harness.js';
import { toolOutputs } from './testing/scripted-openai-server.js';
import { gateToolCalls } from './gate-tool-calls.js';
import { resumeToolCalls } from './resume-tool-calls.js';
import type { ChatToolAnswer, PausedToolCalls, ResponsesToolAnswer } from './tool-call-record.js';

const schemas: ChatCompletionTool[] = ['get_invoice', 'send_payment', 'wire_transfer', 'delete_account'].map((name) => ({
  type: 'function',
  function: { name, parameters: { type: 'object', properties: {}, additionalProperties: true } },
}));

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.close());

const tools = {
  get_invoice: vi.fn(async (args: { id: string }) => ({ id: args.id, total: 42 })),
  send_payment: vi.fn(async (args: { to: string; amount: number }) => `paid ${args.amount} to ${args.to}`),
  wire_transfer: vi.fn(async () => 'wired'),
  delete_account: vi.fn(async () => 'deleted'),
};
beforeEach(() => Object.values(tools).forEach((tool) => tool.mockClear()));

/** One Chat Completions turn through the official client: the user asks, the scripted model calls tools. */
async function chatTurn(...toolCalls: { name: string; arguments: unknown }[]) {
  harness.model.script({ toolCalls });
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Do the thing' }];
  const completion = await harness.openai.chat.completions.create({ model: 'scripted', messages, tools: schemas });
  const message = completion.choices[0]!.message;
  messages.push(message);
  return { message, messages };
}

/** Sends the answers back; the scripted server refuses it (400) unless every call is answered exactly once. */
async function sendBack(messages: ChatCompletionMessageParam[]) {
  const completion = await harness.openai.chat.completions.create({ model: 'scripted', messages, tools: schemas });
  return { text: completion.choices[0]!.message.content, outputs: toolOutputs(harness.model.requests.at(-1)!) };
}

describe('gateToolCalls with Chat Completions', () => {
  it('runs an allowed call and answers it with the tool output', async () => {
    const { message, messages } = await chatTurn({ name: 'get_invoice', arguments: { id: 'inv_1' } });
    const gate = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools, mode: 'block' });
    expect(gate.messages).toEqual([{ role: 'tool', tool_call_id: message.tool_calls![0]!.id, content: '{"id":"inv_1","total":42}' }]);
    messages.push(...gate.messages);
    expect((await sendBack(messages)).text).toContain('inv_1');
  });

  it('answers a denied call with the policy reason and never runs it', async () => {
    const { message, messages } = await chatTurn({ name: 'delete_account', arguments: { id: 'acct_9' } });
    const gate = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools });
    expect(gate.status).toBe('complete');
    expect(gate.calls[0]).toMatchObject({ status: 'denied', reason: 'Deleting accounts is never allowed' });
    expect(tools.delete_account).not.toHaveBeenCalled();
    if (gate.status === 'complete') messages.push(...gate.messages);
    expect(Object.values((await sendBack(messages)).outputs)).toEqual(['Tool call denied: Deleting accounts is never allowed']);
  });

  it('answers malformed arguments and unknown tools with a message, without asking anyone', async () => {
    const { message, messages } = await chatTurn({ name: 'send_payment', arguments: '{"to": "acme", "amount": ' }, { name: 'launch_rocket', arguments: {} });
    const gate = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools, mode: 'block' });
    expect(gate.calls.map((call) => call.status)).toEqual(['failed', 'failed']);
    expect(gate.messages[0]!.content).toMatch(/^Tool call not run: its arguments are not valid JSON/);
    expect(gate.messages[1]!.content).toBe('Tool call not run: there is no tool named launch_rocket.');
    messages.push(...gate.messages);
    await expect(sendBack(messages)).resolves.toBeDefined();
  });

  it('finds no tool behind built-in names a model may call (constructor, toString, __proto__)', async () => {
    const { message } = await chatTurn({ name: 'constructor', arguments: {} }, { name: 'toString', arguments: {} }, { name: '__proto__', arguments: {} }, { name: 'hasOwnProperty', arguments: {} });
    const gate = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools, mode: 'block' });
    expect(gate.calls.map((call) => call.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(gate.messages.map((answer) => answer.content)).toEqual(['constructor', 'toString', '__proto__', 'hasOwnProperty'].map((name) => `Tool call not run: there is no tool named ${name}.`));
  });

  it('turns a tool that throws into an answer', async () => {
    const { message } = await chatTurn({ name: 'get_invoice', arguments: { id: 'inv_404' } });
    const throwing = { get_invoice: async () => Promise.reject(new Error('invoice service down')) };
    const gate = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools: throwing, mode: 'block' });
    expect(gate.calls[0]).toMatchObject({ status: 'failed', answer: { content: 'Tool call failed: invoice service down' } });
  });

  it('pauses on an escalation, then runs the reviewer-edited args once approved', async () => {
    const { message, messages } = await chatTurn({ name: 'send_payment', arguments: { to: 'acme', amount: 500 } });
    const signoff = harness.newSignoff();
    const gate = await gateToolCalls(message.tool_calls, { signoff, tools, runId: 'thread-edit' });
    expect(gate.status).toBe('paused');
    if (gate.status !== 'paused') return;
    expect(gate.pending[0]).toMatchObject({ status: 'pending', reason: 'Payments over $100 require approval (500 to acme)', approvalId: expect.stringMatching(/^apr_/) });

    const stillPending = await resumeToolCalls(gate.state, { signoff, tools });
    expect(stillPending.status).toBe('paused');

    await harness.decideNext('ana', 'approve', { forArgs: { amount: 500 }, args: { to: 'acme', amount: 150 }, comment: 'only the first instalment' });
    const resumed = await resumeToolCalls(gate.state, { signoff, tools });
    expect(tools.send_payment).toHaveBeenCalledTimes(1);
    expect(tools.send_payment.mock.calls[0]![0]).toEqual({ to: 'acme', amount: 150 });
    expect(resumed.status).toBe('complete');
    if (resumed.status === 'complete') messages.push(...resumed.messages);
    expect(Object.values((await sendBack(messages)).outputs)).toEqual(['paid 150 to acme']);
  });

  it('answers an escalation the reviewers deny with their reason', async () => {
    const { message } = await chatTurn({ name: 'send_payment', arguments: { to: 'mallory', amount: 900 } });
    const signoff = harness.newSignoff();
    const gate = await gateToolCalls(message.tool_calls, { signoff, tools });
    await harness.decideNext('ana', 'deny', { forArgs: { amount: 900 }, comment: 'unknown vendor' });
    if (gate.status !== 'paused') throw new Error('expected a pause');
    const resumed = await resumeToolCalls(gate.state, { signoff, tools, wait: true });
    expect(resumed).toMatchObject({ status: 'complete', messages: [{ content: 'Tool call denied: Denied by Ana Lima: unknown vendor' }] });
    expect(tools.send_payment).not.toHaveBeenCalled();
  });

  it('fails closed when nobody decides before the policy timeout', async () => {
    const { message } = await chatTurn({ name: 'wire_transfer', arguments: { to: 'acme', amount: 10 } });
    const gate = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools, mode: 'block' });
    expect(gate.calls[0]).toMatchObject({ status: 'denied', reason: expect.stringMatching(/^No decision within .*timeout_action deny refuses it$/) });
    expect(tools.wire_transfer).not.toHaveBeenCalled();
  });

  it('fails closed when it gives up waiting, or cannot reach the control plane', async () => {
    const { message } = await chatTurn({ name: 'send_payment', arguments: { to: 'acme', amount: 300 } });
    const waited = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools, mode: 'block', timeoutMs: 300, runId: 'impatient' });
    expect(waited.calls[0]).toMatchObject({ status: 'denied', reason: expect.stringMatching(/^Not run \(fail-closed\): no decision on apr_/) });
    const unreachable = createSignoff({ policy, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'sk_x', maxAttempts: 1 } });
    const offline = await gateToolCalls(message.tool_calls, { signoff: unreachable, tools });
    expect(offline).toMatchObject({ status: 'complete', calls: [{ status: 'denied', reason: expect.stringMatching(/^Not run \(fail-closed\): control plane at .* unavailable/) }] });
    expect(tools.send_payment).not.toHaveBeenCalled();
    await harness.decideNext('ana', 'deny', { forArgs: { amount: 300 } });
  });

  it('answers every id of a parallel batch with mixed decisions, in the model’s order', async () => {
    const { message, messages } = await chatTurn(
      { name: 'get_invoice', arguments: { id: 'inv_7' } },
      { name: 'delete_account', arguments: { id: 'acct_1' } },
      { name: 'send_payment', arguments: { to: 'acme', amount: 250 } },
      { name: 'send_payment', arguments: { to: 'acme', amount: 20 } },
    );
    const approving = harness.decideNext('ana', 'approve', { forArgs: { amount: 250 } });
    const gate = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools, mode: 'block' });
    await approving;
    expect(gate.calls.map((call) => call.status)).toEqual(['ran', 'denied', 'ran', 'ran']);
    expect(gate.messages.map((answer) => answer.tool_call_id)).toEqual(message.tool_calls!.map((call) => call.id));
    messages.push(...gate.messages);
    const { outputs } = await sendBack(messages);
    expect(Object.keys(outputs)).toHaveLength(4);
  });

  it('survives a restart between pause and resume (state as a JSON string, a new client)', async () => {
    const { message, messages } = await chatTurn(
      { name: 'get_invoice', arguments: { id: 'inv_8' } },
      { name: 'send_payment', arguments: { to: 'globex', amount: 400 } },
    );
    const gate = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools, runId: 'thread-restart' });
    if (gate.status !== 'paused') throw new Error('expected a pause');
    const saved = JSON.stringify({ messages, paused: gate.state });

    await harness.decideNext('ana', 'approve', { forArgs: { amount: 400 } });
    const restored = JSON.parse(saved) as { messages: ChatCompletionMessageParam[]; paused: PausedToolCalls<ChatToolAnswer> };
    const resumed = await resumeToolCalls(restored.paused, { signoff: harness.newSignoff(), tools });
    if (resumed.status !== 'complete') throw new Error('expected the batch to complete');
    expect(resumed.messages.map((answer) => answer.content)).toEqual(['{"id":"inv_8","total":42}', 'paid 400 to globex']);
    expect(tools.get_invoice).toHaveBeenCalledTimes(1);
    restored.messages.push(...resumed.messages);
    expect(Object.keys((await sendBack(restored.messages)).outputs)).toHaveLength(2);
  });

  it('refuses a stored state whose args were changed after the approval', async () => {
    const { message } = await chatTurn({ name: 'send_payment', arguments: { to: 'acme', amount: 120 } });
    const gate = await gateToolCalls(message.tool_calls, { signoff: harness.newSignoff(), tools });
    if (gate.status !== 'paused') throw new Error('expected a pause');
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 120 } });
    const tampered = JSON.parse(JSON.stringify(gate.state).replace('"amount":120', '"amount":99999')) as PausedToolCalls<ChatToolAnswer>;
    const resumed = await resumeToolCalls(tampered, { signoff: harness.newSignoff(), tools });
    expect(resumed.calls[0]).toMatchObject({ status: 'denied', reason: expect.stringContaining('different args') });
    expect(tools.send_payment).not.toHaveBeenCalled();
  });
});

describe('gateToolCalls with the Responses API', () => {
  it('answers function_call items with function_call_output items, across a pause and a restart', async () => {
    harness.model.script({
      toolCalls: [
        { name: 'get_invoice', arguments: { id: 'inv_9' } },
        { name: 'delete_account', arguments: { id: 'acct_2' } },
        { name: 'send_payment', arguments: { to: 'initech', amount: 700 } },
      ],
    });
    const input: ResponseInputItem[] = [{ role: 'user', content: 'Settle the initech account' }];
    const response = await harness.openai.responses.create({ model: 'scripted', input, tools: [] });
    const gate = await gateToolCalls(response.output, { signoff: harness.newSignoff(), tools, runId: 'resp-thread' });
    if (gate.status !== 'paused') throw new Error('expected a pause');
    const saved = JSON.stringify({ input: [...input, ...response.output], paused: gate.state });

    await harness.decideNext('ana', 'approve', { forArgs: { amount: 700 } });
    const restored = JSON.parse(saved) as { input: ResponseInputItem[]; paused: PausedToolCalls<ResponsesToolAnswer> };
    const resumed = await resumeToolCalls(restored.paused, { signoff: harness.newSignoff(), tools });
    if (resumed.status !== 'complete') throw new Error('expected the batch to complete');
    expect(resumed.messages).toEqual(
      response.output.map((item) => ({ type: 'function_call_output', call_id: item.type === 'function_call' ? item.call_id : '', output: expect.any(String) })),
    );
    expect(resumed.messages.map((answer) => answer.output)).toEqual(['{"id":"inv_9","total":42}', 'Tool call denied: Deleting accounts is never allowed', 'paid 700 to initech']);
    const next = await harness.openai.responses.create({ model: 'scripted', input: [...restored.input, ...resumed.messages] });
    expect(next.output_text).toContain('paid 700 to initech');
  });
});
