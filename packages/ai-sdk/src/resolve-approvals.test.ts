import { createSignoff } from '@signoff/core';
import { generateText, stepCountIs, type ModelMessage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callId, lastToolResults, pendingRequest, policy, startPaymentsWorld, type PaymentsWorld } from './__fixtures__/payments.js';
import { scriptedModel } from './__fixtures__/scripted-model.js';
import { resolveApprovals } from './resolve-approvals.js';
import { signoffToolApproval } from './signoff-tool-approval.js';

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
