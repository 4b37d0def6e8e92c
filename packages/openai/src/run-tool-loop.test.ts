import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHarness, type Harness } from './__fixtures__/harness.js';
import { toolOutputs } from './testing/scripted-openai-server.js';
import { runToolLoop, type PausedToolLoop } from './run-tool-loop.js';

const schemas: ChatCompletionTool[] = ['get_invoice', 'send_payment'].map((name) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } }));

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.close());

describe('runToolLoop', () => {
  it('loops until the model answers, waiting for reviewers in block mode', async () => {
    const send_payment = vi.fn(async (args: { to: string; amount: number }) => `paid ${args.amount} to ${args.to}`);
    const tools = { send_payment, get_invoice: async () => ({ total: 640 }) };
    harness.model.script(
      { toolCalls: [{ name: 'get_invoice', arguments: { id: 'inv_1' } }] },
      { toolCalls: [{ name: 'send_payment', arguments: { to: 'acme', amount: 640 } }] },
      { text: 'Paid acme.' },
    );
    const approving = harness.decideNext('ana', 'approve', { forArgs: { amount: 640 } });
    const result = await runToolLoop({
      client: harness.openai,
      signoff: harness.newSignoff(),
      tools,
      mode: 'block',
      request: { model: 'scripted', tools: schemas },
      messages: [{ role: 'user', content: 'Pay the acme invoice' }],
    });
    await approving;
    expect(result).toMatchObject({ status: 'complete', message: { content: 'Paid acme.' } });
    if (result.status !== 'complete') return;
    expect(result.calls.map((call) => [call.tool, call.status])).toEqual([['get_invoice', 'ran'], ['send_payment', 'ran']]);
    expect(result.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant']);
    expect(send_payment).toHaveBeenCalledWith({ to: 'acme', amount: 640 }, expect.objectContaining({ tool: 'send_payment' }));
  });

  it('pauses, survives a restart, and resumes from the stored state', async () => {
    const send_payment = vi.fn(async (args: { to: string; amount: number }) => `paid ${args.amount} to ${args.to}`);
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'globex', amount: 450 } }] });
    const common = { client: harness.openai, tools: { send_payment }, request: { model: 'scripted', tools: schemas }, runId: 'loop-thread-1' };
    const first = await runToolLoop({ ...common, signoff: harness.newSignoff(), messages: [{ role: 'user', content: 'Pay globex' }] });
    expect(first).toMatchObject({ status: 'paused', pending: [{ tool: 'send_payment', status: 'pending' }] });
    if (first.status !== 'paused') return;
    const saved = JSON.stringify(first.state);

    await harness.decideNext('ana', 'deny', { forArgs: { amount: 450 }, comment: 'pay by invoice instead' });
    harness.model.script({ text: 'I could not pay globex: the payment was denied.' });
    const resumed = await runToolLoop({ ...common, signoff: harness.newSignoff(), resume: JSON.parse(saved) as PausedToolLoop });
    expect(resumed).toMatchObject({ status: 'complete', message: { content: 'I could not pay globex: the payment was denied.' } });
    expect(send_payment).not.toHaveBeenCalled();
    expect(Object.values(toolOutputs(harness.model.requests.at(-1)!))).toEqual(['Tool call denied: Denied by Ana Lima: pay by invoice instead']);
  });
});
