import { Agent, OpenAIResponsesModel, run, RunState, tool, type RunItem } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { startHarness, type Harness } from './__fixtures__/harness.js';
import { createExecutors, createPaymentAgent, type Executors, type RunContextShape } from './__fixtures__/payment-agent.js';
import { toolOutputs } from './testing/scripted-openai-server.js';
import { resolveInterruptions } from './resolve-interruptions.js';
import type { SignoffAgentsOptions } from './with-signoff.js';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.close());

const lastOutputs = (): string[] => Object.values(toolOutputs(harness.model.requests.at(-1)!));
const byThread: SignoffAgentsOptions<RunContextShape> = { runId: ({ context }) => context.threadId };

describe('resolveInterruptions', () => {
  it('escalate → approve with edited args → resume: the tool gets the reviewer’s args', async () => {
    const executors = createExecutors();
    const signoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, signoff, executors, byThread);
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'acme', amount: 500 } }] });
    const first = await run(agent, 'Pay acme $500', { context: { threadId: 'thread-a' } });
    expect(first.interruptions.map((item) => item.name)).toEqual(['send_payment']);

    const waiting = await resolveInterruptions(first, signoff, byThread);
    expect(waiting.pending).toHaveLength(1);
    const callId = first.interruptions[0]!.rawItem.type === 'function_call' ? first.interruptions[0]!.rawItem.callId : '';
    expect(waiting.approvals[callId]).toMatchObject({ tool: 'send_payment', status: 'pending', idempotencyKey: `thread-a:${callId}` });

    await harness.decideNext('ana', 'approve', { forArgs: { amount: 500 }, args: { to: 'acme', amount: 150 } });
    const resolved = await resolveInterruptions(first, signoff, byThread);
    expect(resolved).toMatchObject({ approved: [expect.anything()], rejected: [], pending: [] });
    const final = await run(agent, resolved.state);
    expect(final.interruptions).toEqual([]);
    expect(executors.send_payment).toHaveBeenCalledTimes(1);
    expect(executors.send_payment.mock.calls[0]![0]).toEqual({ to: 'acme', amount: 150 });
    expect(final.finalOutput).toContain('paid 150 to acme');
  });

  it('escalate → deny: the model sees the reviewer’s reason and the tool never runs', async () => {
    const executors = createExecutors();
    const signoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, signoff, executors);
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'mallory', amount: 900 } }] });
    const first = await run(agent, 'Pay mallory', { context: { threadId: 'thread-b' } });
    const denying = harness.decideNext('ana', 'deny', { forArgs: { amount: 900 }, comment: 'unknown vendor' });
    const resolved = await resolveInterruptions(first, signoff, { wait: true });
    await denying;
    expect(resolved.rejected).toHaveLength(1);
    await run(agent, resolved.state);
    expect(executors.send_payment).not.toHaveBeenCalled();
    expect(lastOutputs()).toEqual(['Tool call denied: Denied by Ana Lima: unknown vendor']);
  });

  it('rejects, fail-closed, when nobody decides before the policy timeout', async () => {
    const executors = createExecutors();
    const signoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, signoff, executors);
    harness.model.script({ toolCalls: [{ name: 'wire_transfer', arguments: { to: 'acme', amount: 10 } }] });
    const first = await run(agent, 'Wire acme', { context: { threadId: 'thread-c' } });
    const resolved = await resolveInterruptions(first, signoff, { wait: true });
    expect(resolved.rejected).toHaveLength(1);
    await run(agent, resolved.state);
    expect(executors.wire_transfer).not.toHaveBeenCalled();
    expect(lastOutputs()[0]).toMatch(/^Tool call denied: No decision within .*timeout_action deny refuses it$/);
  });

  it('answers every call of a parallel turn with mixed decisions', async () => {
    const executors = createExecutors();
    const signoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, signoff, executors);
    harness.model.script({
      toolCalls: [
        { name: 'get_invoice', arguments: { id: 'inv_3' } },
        { name: 'delete_account', arguments: { id: 'acct_3' } },
        { name: 'send_payment', arguments: { to: 'acme', amount: 333 } },
        { name: 'send_payment', arguments: { to: 'acme', amount: 33 } },
      ],
    });
    const first = await run(agent, 'Clean up acme', { context: { threadId: 'thread-d' } });
    expect(first.interruptions.map((item) => item.arguments)).toEqual(['{"to":"acme","amount":333}']);
    const approving = harness.decideNext('ana', 'approve', { forArgs: { amount: 333 } });
    const resolved = await resolveInterruptions(first, signoff, { wait: true });
    await approving;
    await run(agent, resolved.state);
    expect(lastOutputs().sort()).toEqual(
      ['{"id":"inv_3","total":42}', 'Tool call denied: Deleting accounts is never allowed', 'paid 333 to acme', 'paid 33 to acme'].sort(),
    );
    expect(executors.delete_account).not.toHaveBeenCalled();
    expect(executors.send_payment).toHaveBeenCalledTimes(2);
  });

  it('rejects malformed arguments instead of crashing', async () => {
    const executors = createExecutors();
    const signoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, signoff, executors);
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: '{"to": "acme", "amount": ' }] });
    let result = await run(agent, 'Pay acme', { context: { threadId: 'thread-e' } });
    // The SDK holds a call it cannot parse for approval; Signoff rejects it (fail-closed).
    expect(result.interruptions).toHaveLength(1);
    const resolved = await resolveInterruptions(result, signoff);
    expect(resolved.rejected).toHaveLength(1);
    result = await run(agent, resolved.state);
    expect(result.interruptions).toEqual([]);
    expect(executors.send_payment).not.toHaveBeenCalled();
    // For unparsable input the SDK replaces the rejection message with its own generic one.
    expect(lastOutputs()).toEqual(['Tool execution was not approved.']);
  });

  it('resumes from a RunState string after a restart, with a new client and new agent', async () => {
    const before = createExecutors();
    const signoff = harness.newSignoff();
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'globex', amount: 450 } }] });
    const first = await run(createPaymentAgent(harness, signoff, before, byThread), 'Pay globex', { context: { threadId: 'thread-f' } });
    const paused = await resolveInterruptions(first, signoff, byThread);
    expect(paused.pending).toHaveLength(1);
    const saved = paused.state.toString();

    await harness.decideNext('ana', 'approve', { forArgs: { amount: 450 } });
    const after = createExecutors();
    const restartedSignoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, restartedSignoff, after, byThread);
    const state = await RunState.fromString(agent, saved);
    const resolved = await resolveInterruptions(state, restartedSignoff, byThread);
    expect(resolved.approved).toHaveLength(1);
    const final = await run(agent, resolved.state);
    expect(after.send_payment).toHaveBeenCalledWith({ to: 'globex', amount: 450 }, expect.anything(), expect.anything());
    expect(before.send_payment).not.toHaveBeenCalled();
    expect(final.finalOutput).toContain('paid 450 to globex');
  });

  it('works with the Chat Completions model too', async () => {
    const executors = createExecutors();
    const signoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, signoff, executors, { api: 'chat' });
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'hooli', amount: 222 } }, { name: 'get_invoice', arguments: { id: 'inv_5' } }] });
    const first = await run(agent, 'Pay hooli', { context: { threadId: 'thread-g' } });
    const approving = harness.decideNext('ana', 'approve', { forArgs: { amount: 222 } });
    const resolved = await resolveInterruptions(first, signoff, { wait: true });
    await approving;
    const final = await run(agent, resolved.state);
    expect(harness.model.requests.at(-1)!.path).toBe('/v1/chat/completions');
    expect(final.finalOutput).toContain('paid 222 to hooli');
  });
});

describe('resolveInterruptions: an approval runs its call once', () => {
  const alreadyUsed = /^Tool call denied: approval apr_\S+ was already used at \S+Z; an approval runs its call once$/;
  const outputsOf = (result: { readonly newItems: readonly RunItem[] }): string[] =>
    result.newItems.flatMap((item) => (item.type === 'tool_call_output_item' ? [typeof item.output === 'string' ? item.output : JSON.stringify(item.output)] : []));

  /** Runs until the payment interrupts, creates its request, and stores the paused run as a string. */
  async function pausedRun(amount: number, threadId: string, executors: Executors): Promise<string> {
    const signoff = harness.newSignoff();
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'acme', amount } }] });
    const first = await run(createPaymentAgent(harness, signoff, executors, byThread), 'Pay acme', { context: { threadId } });
    return (await resolveInterruptions(first, signoff, byThread)).state.toString();
  }

  /** What a process picking the run up does: its own agent, the stored string, resolve, run. */
  async function resume(saved: string, executors: Executors, signoff = harness.newSignoff()) {
    const agent = createPaymentAgent(harness, signoff, executors, byThread);
    const resolved = await resolveInterruptions(await RunState.fromString(agent, saved), signoff, byThread);
    const result = await run(agent, resolved.state);
    return { resolved, outputs: outputsOf(result) };
  }

  it('runs it once across replayed resumes of the same saved RunState, a restarted process included', async () => {
    const executors = createExecutors();
    const saved = await pausedRun(610, 'thread-replay', executors);
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 610 } });
    const signoff = harness.newSignoff();

    const first = await resume(saved, executors, signoff);
    expect(first.outputs).toEqual(['paid 610 to acme']);
    const again = await resume(saved, executors, signoff);
    const restarted = await resume(saved, createExecutors());
    expect(executors.send_payment).toHaveBeenCalledTimes(1);
    for (const later of [again, restarted]) {
      expect(later.resolved.rejected).toHaveLength(1);
      expect(later.outputs).toEqual([expect.stringMatching(alreadyUsed)]);
    }
  });

  it('runs it once when two resumes of the same RunState race', async () => {
    const executors = createExecutors();
    const saved = await pausedRun(620, 'thread-race', executors);
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 620 } });
    const results = await Promise.all([resume(saved, executors), resume(saved, executors)]);
    expect(executors.send_payment).toHaveBeenCalledTimes(1);
    expect(results.flatMap((each) => each.outputs).sort()).toEqual([expect.stringMatching(alreadyUsed), 'paid 620 to acme'].sort());
  });

  it('runs an approved RunState once however often it is run: the tool claims, not the state', async () => {
    const executors = createExecutors();
    const saved = await pausedRun(630, 'thread-approved', executors);
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 630 } });
    const signoff = harness.newSignoff();
    const agent = createPaymentAgent(harness, signoff, executors, byThread);
    const approved = (await resolveInterruptions(await RunState.fromString(agent, saved), signoff, byThread)).state.toString();
    const runs = await Promise.all([run(agent, await RunState.fromString(agent, approved)), run(agent, await RunState.fromString(agent, approved))]);
    await run(agent, await RunState.fromString(agent, approved));
    expect(executors.send_payment).toHaveBeenCalledTimes(1);
    expect(runs.flatMap(outputsOf).sort()).toEqual([expect.stringMatching(alreadyUsed), 'paid 630 to acme'].sort());
  });

  it('claims for a tool that is not wrapped (its own needsApproval) before approving it, so a replay runs nothing', async () => {
    const pay = vi.fn(async ({ to, amount }: { to: string; amount: number }) => `paid ${amount} to ${to}`);
    const plain = tool({ name: 'send_payment', description: 'Pay', parameters: z.object({ to: z.string(), amount: z.number() }), needsApproval: true, execute: pay });
    const agent = new Agent<RunContextShape>({ name: 'Plain', model: new OpenAIResponsesModel(harness.openai, 'scripted'), tools: [plain] });
    const signoff = harness.newSignoff();
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'acme', amount: 640 } }] });
    const first = await run(agent, 'Pay acme', { context: { threadId: 'thread-plain' } });
    const saved = (await resolveInterruptions(first, signoff, byThread)).state.toString();
    const approval = await harness.decideNext('ana', 'approve', { forArgs: { amount: 640 } });

    const resolved = await resolveInterruptions(await RunState.fromString(agent, saved), signoff, byThread);
    expect(resolved.approved).toHaveLength(1);
    expect((await signoff.getApproval(approval.id)).status).toBe('executed');
    await run(agent, resolved.state);
    const replay = await resolveInterruptions(await RunState.fromString(agent, saved), harness.newSignoff(), byThread);
    expect(replay.rejected).toHaveLength(1);
    expect(outputsOf(await run(agent, replay.state))).toEqual([expect.stringMatching(alreadyUsed)]);
    expect(pay).toHaveBeenCalledTimes(1);

    // Reviewer-edited args cannot reach a tool the SDK runs itself: rejected, not run with the model's args.
    harness.model.script({ toolCalls: [{ name: 'send_payment', arguments: { to: 'acme', amount: 650 } }] });
    const edited = await run(agent, 'Pay acme', { context: { threadId: 'thread-plain' } });
    await resolveInterruptions(edited, signoff, byThread);
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 650 }, args: { to: 'acme', amount: 150 } });
    const refused = await resolveInterruptions(edited, signoff, byThread);
    expect(refused.rejected).toHaveLength(1);
    await run(agent, refused.state);
    expect(pay).toHaveBeenCalledTimes(1);
    expect(lastOutputs().at(-1)).toBe('Tool call denied: the reviewers edited the args of send_payment, and only a tool wrapped with withSignoff can run edited args');
  });
});
