import { Agent, OpenAIResponsesModel, run, Runner, tool } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { startHarness, type Harness } from './__fixtures__/harness.js';
import { createExecutors, createPaymentAgent } from './__fixtures__/payment-agent.js';
import { toolOutputs } from './testing/scripted-openai-server.js';
import { resolveInterruptions } from './resolve-interruptions.js';
import { withSignoff } from './with-signoff.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.close());

const lastOutputs = (): string[] => Object.values(toolOutputs(harness.model.requests.at(-1)!));
const context = { threadId: 'thread-w' };

describe('withSignoff', () => {
  it('runs an allowed tool with no interruption', async () => {
    const executors = createExecutors();
    harness.model.script({ toolCalls: [{ name: 'get_invoice', arguments: { id: 'inv_1' } }] });
    const result = await run(createPaymentAgent(harness, harness.newSignoff(), executors), 'Show inv_1', { context });
    expect(result.interruptions).toEqual([]);
    expect(executors.get_invoice).toHaveBeenCalledTimes(1);
    expect(result.finalOutput).toContain('inv_1');
  });

  it('refuses a denied tool through its input guardrail, with the policy reason as the output', async () => {
    const executors = createExecutors();
    harness.model.script({ toolCalls: [{ name: 'delete_account', arguments: { id: 'acct_1' } }] });
    const result = await run(createPaymentAgent(harness, harness.newSignoff(), executors), 'Delete acct_1', { context });
    expect(result.interruptions).toEqual([]);
    expect(executors.delete_account).not.toHaveBeenCalled();
    expect(result.toolInputGuardrailResults.map((entry) => entry.output.behavior)).toEqual([
      { type: 'rejectContent', message: 'Tool call denied: Deleting accounts is never allowed' },
    ]);
    expect(lastOutputs()).toEqual(['Tool call denied: Deleting accounts is never allowed']);
  });

  it('refuses a call approved in the run state but not by the control plane', async () => {
    const executors = createExecutors();
    const signoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, signoff, executors);
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'eve', amount: 5000 } }] });
    const first = await run(agent, 'Pay eve', { context });
    first.state.approve(first.interruptions[0]!);
    await run(agent, first.state);
    expect(executors.send_payment).not.toHaveBeenCalled();
    expect(lastOutputs()[0]).toMatch(/^Tool call denied: approval apr_\S+ is still pending$/);
    await harness.decideNext('ana', 'deny', { forArgs: { amount: 5000 } });
  });

  it('waits inside the tool call in block mode: no interruption, the approved call runs', async () => {
    const executors = createExecutors();
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'acme', amount: 800 } }] });
    const approving = harness.decideNext('ana', 'approve', { forArgs: { amount: 800 }, args: { to: 'acme', amount: 700 } });
    const result = await run(createPaymentAgent(harness, harness.newSignoff(), executors, { mode: 'block' }), 'Pay acme', { context });
    await approving;
    expect(result.interruptions).toEqual([]);
    expect(executors.send_payment.mock.calls[0]![0]).toEqual({ to: 'acme', amount: 700 });
    expect(result.finalOutput).toContain('paid 700 to acme');
  });

  it('keeps the escalation as an interruption when the runner runs guardrails before approval', async () => {
    const executors = createExecutors();
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'acme', amount: 900 } }] });
    const runner = new Runner({ toolExecution: { preApprovalInputGuardrails: true } });
    const result = await runner.run(createPaymentAgent(harness, harness.newSignoff(), executors), 'Pay acme', { context });
    expect(result.interruptions.map((item) => item.name)).toEqual(['send_payment']);
  });

  it('leaves a tool’s own needsApproval to the app, and keeps its own guardrails', async () => {
    const ownGuardrail = vi.fn(async () => ({ behavior: { type: 'allow' as const } }));
    const lookup = tool({
      name: 'get_secret',
      description: 'Read a secret',
      parameters: z.object({ name: z.string() }),
      needsApproval: true,
      inputGuardrails: [{ type: 'tool_input', name: 'own', run: ownGuardrail }],
      execute: async ({ name }) => `secret ${name}`,
    });
    const signoff = harness.newSignoff();
    const agent = new Agent({ name: 'Secrets', model: new OpenAIResponsesModel(harness.openai, 'scripted'), tools: [withSignoff(lookup, signoff)] });
    harness.model.script({ toolCalls: [{ name: 'get_secret', arguments: { name: 'db' } }] });
    const first = await run(agent, 'Read the db secret');
    const resolved = await resolveInterruptions(first, signoff);
    expect(resolved).toMatchObject({ skipped: [expect.anything()], approved: [], rejected: [], pending: [], approvals: {} });
    resolved.state.approve(resolved.skipped[0]!);
    const final = await run(agent, resolved.state);
    expect(ownGuardrail).toHaveBeenCalledTimes(1);
    expect(final.finalOutput).toContain('secret db');
  });
});
