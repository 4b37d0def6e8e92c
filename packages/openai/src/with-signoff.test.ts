import { Agent, OpenAIResponsesModel, run, RunContext, Runner, tool, type FunctionTool } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { startHarness, type Harness } from './__fixtures__/harness.js';
import { createExecutors, createPaymentAgent, type RunContextShape } from './__fixtures__/payment-agent.js';
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

  it('refuses a call approved in the run state after the reviewers denied it', async () => {
    const executors = createExecutors();
    const signoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, signoff, executors);
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'eve', amount: 5100 } }] });
    const first = await run(agent, 'Pay eve', { context });
    await resolveInterruptions(first, signoff);
    await harness.decideNext('ana', 'deny', { forArgs: { amount: 5100 }, comment: 'not a vendor' });
    first.state.approve(first.interruptions[0]!);
    await run(agent, first.state);
    expect(executors.send_payment).not.toHaveBeenCalled();
    expect(lastOutputs()).toEqual(['Tool call denied: Denied by Ana Lima: not a vendor']);
  });

  it('runs nothing escalated or denied under a runner that ignores needsApproval and the guardrails', async () => {
    const executors = createExecutors();
    const agent = createPaymentAgent(harness, harness.newSignoff(), executors);
    // A framework version that no longer honours the hooks: it never asks for approval and runs no guardrails.
    for (const each of agent.tools as FunctionTool[]) Object.assign(each, { needsApproval: async () => false, inputGuardrails: [] });
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'acme', amount: 1250 } }, { name: 'delete_account', arguments: { id: 'acct_7' } }] });
    const result = await run(agent, 'Pay acme and delete acct_7', { context });
    expect(result.interruptions).toEqual([]);
    expect(executors.send_payment).not.toHaveBeenCalled();
    expect(executors.delete_account).not.toHaveBeenCalled();
    expect(lastOutputs()).toEqual([expect.stringMatching(/^Tool call denied: approval apr_\S+ is still pending$/), 'Tool call denied: Deleting accounts is never allowed']);
    await harness.decideNext('ana', 'deny', { forArgs: { amount: 1250 } });
  });

  it('gates inside the tool’s own invoke: a runner calling it directly runs only claimed args, once', async () => {
    const executors = createExecutors();
    const traffic: string[] = [];
    const [getInvoice, sendPayment, , deleteAccount] = createPaymentAgent(harness, harness.newSignoff({ traffic }), executors).tools as FunctionTool<RunContextShape>[];
    const runContext = new RunContext<RunContextShape>({ threadId: 'thread-direct' });
    const call = (callId: string, name: string, args: unknown) => [JSON.stringify(args), { toolCall: { type: 'function_call' as const, callId, name, arguments: JSON.stringify(args) } }] as const;

    expect(await getInvoice!.invoke(runContext, ...call('call_d1', 'get_invoice', { id: 'inv_1' }))).toBe('{"id":"inv_1","total":42}');
    expect(await deleteAccount!.invoke(runContext, ...call('call_d2', 'delete_account', { id: 'acct_1' }))).toBe('Tool call denied: Deleting accounts is never allowed');
    expect(traffic).toEqual([]);

    const payment = call('call_d3', 'send_payment', { to: 'acme', amount: 660 });
    expect(await sendPayment!.invoke(runContext, ...payment)).toMatch(/^Tool call denied: approval apr_\S+ is still pending$/);
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 660 }, args: { to: 'acme', amount: 600 } });
    expect(await sendPayment!.invoke(runContext, ...payment)).toBe('paid 600 to acme');
    expect(await sendPayment!.invoke(runContext, ...payment)).toMatch(/^Tool call denied: approval apr_\S+ was already used at \S+; an approval runs its call once$/);
    expect(await sendPayment!.invoke(runContext, payment[0])).toBe('Tool call not run: send_payment needs approval, and this call has no call id to find its approval by.');
    expect(executors.send_payment).toHaveBeenCalledTimes(1);
    expect(executors.send_payment.mock.calls[0]![0]).toEqual({ to: 'acme', amount: 600 });
    expect(traffic.filter((entry) => entry.endsWith('/execution'))).toHaveLength(1); // the replay is refused by the check, before any claim
  });

  it('runs allowed tools without any control-plane traffic', async () => {
    const executors = createExecutors();
    const traffic: string[] = [];
    harness.model.script({ toolCalls: [{ name: 'get_invoice', arguments: { id: 'inv_2' } }, { name: 'send_payment', arguments: { to: 'acme', amount: 20 } }] });
    const result = await run(createPaymentAgent(harness, harness.newSignoff({ traffic }), executors), 'Pay inv_2', { context });
    expect(result.interruptions).toEqual([]);
    expect(executors.get_invoice).toHaveBeenCalledTimes(1);
    expect(executors.send_payment).toHaveBeenCalledTimes(1);
    expect(traffic).toEqual([]);
  });

  it('waits inside the tool call in block mode: no interruption, the approved call runs', async () => {
    const executors = createExecutors();
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'acme', amount: 800 } }] });
    const approving = harness.decideNext('ana', 'approve', { forArgs: { amount: 800 }, args: { to: 'acme', amount: 700 } });
    const signoff = harness.newSignoff();
    const result = await run(createPaymentAgent(harness, signoff, executors, { mode: 'block' }), 'Pay acme', { context });
    const approval = await approving;
    expect(result.interruptions).toEqual([]);
    expect((await signoff.getApproval(approval.id)).status).toBe('executed');
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
