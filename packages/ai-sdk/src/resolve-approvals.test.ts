import { createSignoff, type Signoff } from '@signoff/core';
import { generateText, stepCountIs, type ModelMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callId, connect, currentRequest, lastToolResults, paymentTools, pendingRequest, policy, startPaymentsWorld, type PaymentsWorld } from './__fixtures__/payments.js';
import { scriptedModel } from './testing/index.js';
import { resolveApprovals } from './resolve-approvals.js';
import { signoffToolApproval } from './signoff-tool-approval.js';
import { withSignoff } from './with-signoff.js';

let world: PaymentsWorld;
beforeAll(async () => {
  world = await startPaymentsWorld();
});
afterAll(async () => {
  await world.controlPlane.close();
});

const prompt: ModelMessage[] = [{ role: 'user', content: 'Pay the invoice' }];

/** Runs the first turn of a scripted conversation and returns the paused history. */
async function pause(toolName: string, input: unknown, answer = 'Done.') {
  const id = callId(toolName);
  const model = scriptedModel([{ toolCalls: [{ id, name: toolName, input }] }, { text: answer }]);
  const first = await generateText({ model, tools: world.tools, messages: prompt, toolApproval: signoffToolApproval(world.signoff) });
  return { id, model, messages: [...prompt, ...first.responseMessages] };
}

function resume(model: ReturnType<typeof scriptedModel>, messages: ModelMessage[]) {
  return generateText({ model, tools: world.tools, messages, toolApproval: signoffToolApproval(world.signoff), stopWhen: stepCountIs(5) });
}

describe('resolveApprovals', () => {
  it('leaves an undecided call pending and the history unchanged', async () => {
    const { id, messages } = await pause('payment_send', { to: 'acme', amount: 400 });
    const resolved = await resolveApprovals(messages, world.signoff);
    expect(resolved.responses).toEqual([]);
    expect(resolved.messages).toEqual(messages);
    expect(resolved.pending).toEqual([expect.objectContaining({ toolCall: expect.objectContaining({ toolCallId: id }), approval: expect.objectContaining({ status: 'pending' }) })]);
  });

  it('escalate → approve → resume: runs the tool once, with the approved args, after a restart', async () => {
    const before = world.executed.length;
    const { id, model, messages } = await pause('payment_send', { to: 'acme', amount: 500 }, 'Paid $500 to acme.');
    await world.controlPlane.decide((await pendingRequest(world, id)).id, 'ana', 'approve');

    // A restart: the history survives as JSON and a new process has a new client.
    const stored: ModelMessage[] = JSON.parse(JSON.stringify(messages));
    const signoff = createSignoff({ policy, controlPlane: { url: world.controlPlane.url, apiKey: world.controlPlane.agentKey } });
    const resolved = await resolveApprovals(stored, signoff);
    expect(resolved.pending).toEqual([]);
    expect(resolved.responses).toEqual([expect.objectContaining({ type: 'tool-approval-response', approved: true, reason: 'Approved by Ana Lima' })]);

    const result = await resume(model, resolved.messages);
    expect(result.text).toBe('Paid $500 to acme.');
    expect(world.executed.slice(before)).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 500 } }]);

    // Resolving the finished history again adds nothing, so nothing can run twice.
    const again = await resolveApprovals([...resolved.messages, ...result.responseMessages], signoff);
    expect(again.responses).toEqual([]);
    expect(again.pending).toEqual([]);
  });

  it('escalate → deny: the reviewer deny reaches the model and the tool never runs', async () => {
    const before = world.executed.length;
    const { id, model, messages } = await pause('payment_send', { to: 'mallory', amount: 800 }, 'The payment was refused.');
    await world.controlPlane.decide((await pendingRequest(world, id)).id, 'ana', 'deny', { comment: 'not a vendor' });
    const resolved = await resolveApprovals(messages, world.signoff);
    expect(resolved.responses).toEqual([expect.objectContaining({ approved: false, reason: 'Denied by Ana Lima: not a vendor' })]);
    const result = await resume(model, resolved.messages);
    expect(world.executed.length).toBe(before);
    expect(lastToolResults(model.prompts)).toEqual([expect.objectContaining({ toolCallId: id, output: { type: 'execution-denied', reason: 'Denied by Ana Lima: not a vendor' } })]);
    expect(result.text).toBe('The payment was refused.');
  });

  it('timeout: a request nobody decides expires and is denied (fail-closed)', async () => {
    const before = world.executed.length;
    const { id, model, messages } = await pause('wire_transfer', { iban: 'DE89370400440532013000', amount: 50 });
    const resolved = await resolveApprovals(messages, world.signoff, { wait: true });
    expect(resolved.pending).toEqual([]);
    expect(resolved.responses).toEqual([expect.objectContaining({ approved: false })]);
    expect(resolved.responses[0]!.reason).toMatch(/No decision within .*timeout_action deny refuses it/);
    await resume(model, resolved.messages);
    expect(world.executed.length).toBe(before);
    expect(lastToolResults(model.prompts)).toEqual([expect.objectContaining({ toolCallId: id, output: expect.objectContaining({ type: 'execution-denied' }) })]);
  });

  it('waits for a decision that arrives while it waits', async () => {
    const { id, messages } = await pause('payment_send', { to: 'acme', amount: 650 });
    const approval = await pendingRequest(world, id);
    setTimeout(() => void world.controlPlane.decide(approval.id, 'ana', 'approve'), 200);
    const resolved = await resolveApprovals(messages, world.signoff, { wait: { timeoutMs: 10_000 } });
    expect(resolved.responses).toEqual([expect.objectContaining({ approved: true })]);
  });

  it('gives up waiting after timeoutMs and keeps the call pending', async () => {
    const { messages } = await pause('payment_send', { to: 'acme', amount: 660 });
    const resolved = await resolveApprovals(messages, world.signoff, { wait: { timeoutMs: 300 } });
    expect(resolved.responses).toEqual([]);
    expect(resolved.pending).toHaveLength(1);
  });
});

describe.each([
  { setup: 'the recommended setup (withSignoff tools + toolApproval)', wrapped: true },
  { setup: 'plain tools + toolApproval', wrapped: false },
])('an approval runs its call once — $setup', ({ wrapped }) => {
  /** One agent process: its own Signoff client and tools (executions land in the shared `executed` list); returns what the model was told. */
  async function continueRun(signoff: Signoff, messages: ModelMessage[]) {
    const tools = paymentTools(world.executed);
    const model = scriptedModel([{ text: 'Paid.' }]);
    const result = await generateText({
      model,
      tools: wrapped ? withSignoff(tools, signoff, { wait: false }) : tools,
      messages,
      toolApproval: signoffToolApproval(signoff),
      stopWhen: stepCountIs(5),
    });
    return { result, told: lastToolResults(model.prompts) };
  }

  /** A run paused on a $1,250 payment that reviewers then approved; returns the saved state (JSON). */
  async function approvedPause() {
    const { id, messages } = await pause('payment_send', { to: 'acme', amount: 1250 });
    const approval = await pendingRequest(world, id);
    await world.controlPlane.decide(approval.id, 'ana', 'approve');
    return { id, approvalId: approval.id, saved: JSON.stringify(messages) };
  }

  /** What a webhook handler does: load the saved state, append the verdicts, continue. */
  async function resume(signoff: Signoff, saved: string) {
    const { messages } = await resolveApprovals(JSON.parse(saved) as ModelMessage[], signoff);
    return { ...(await continueRun(signoff, messages)), messages };
  }

  it('resuming the same saved state again (here, in a restarted process, from the resolved history) runs nothing twice', async () => {
    const before = world.executed.length;
    const { id, approvalId, saved } = await approvedPause();

    const first = await resume(world.signoff, saved);
    expect(world.executed.slice(before)).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 1250 } }]);
    expect(first.result.text).toBe('Paid.');
    const used = await currentRequest(world, approvalId);
    expect(used).toMatchObject({ status: 'executed', execution: { claimedBy: 'agent' } });
    if (wrapped) expect(used.execution?.outcome).toBe('succeeded');
    const alreadyUsed = `approval ${approvalId} was already used at ${used.execution!.claimedAt}; an approval runs its call once`;

    // The webhook fires again: the same saved state is resumed, in this process and by a restarted one.
    for (const signoff of [world.signoff, connect(world)]) {
      const again = await resume(signoff, saved);
      expect(again.told).toEqual([{ type: 'tool-result', toolCallId: id, toolName: 'payment_send', output: { type: 'execution-denied', reason: alreadyUsed } }]);
    }
    // The history saved after resolveApprovals (it says approved: true) is replayed by a restarted process.
    const replay = await continueRun(connect(world), first.messages);
    expect(replay.told).toEqual([expect.objectContaining({ toolCallId: id, output: { type: 'execution-denied', reason: alreadyUsed } })]);
    expect(world.executed.slice(before)).toHaveLength(1);
  });

  it('two resumes of the same saved state at once run the tool once', async () => {
    const before = world.executed.length;
    const { id, saved } = await approvedPause();
    const both = await Promise.all([resume(connect(world), saved), resume(connect(world), saved)]);
    expect(world.executed.slice(before)).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 1250 } }]);
    const outputs = both.flatMap(({ told }) => told.filter((part) => part.toolCallId === id).map((part) => part.output));
    expect(outputs).toHaveLength(2);
    const refused = outputs.filter((output) => output.type === 'execution-denied');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toMatch(/already used at/);
  });
});
