import { createSignoff, type ApprovalRequest, type Signoff } from '@signoff/core';
import type { ChatCompletionMessageToolCall, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { policy, startHarness, type Harness } from './__fixtures__/harness.js';
import { gateToolCalls } from './gate-tool-calls.js';
import { resumeToolCalls } from './resume-tool-calls.js';
import type { ChatToolAnswer, PausedToolCalls } from './tool-call-record.js';

const schemas: ChatCompletionTool[] = ['get_invoice', 'send_payment'].map((name) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } }));

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => harness.close());

const alreadyUsed = /^Tool call denied: approval apr_\S+ was already used at \d{4}-\d\d-\d\dT[\d:.]+Z; an approval runs its call once$/;

function createTools() {
  return {
    get_invoice: vi.fn(async (args: { id: string }) => ({ id: args.id, total: 42 })),
    send_payment: vi.fn(async (args: { to: string; amount: number }) => `paid ${args.amount} to ${args.to}`),
  };
}

/** The model's tool calls, through the official client against the scripted server. */
async function modelCalls(...toolCalls: { name: string; arguments: unknown; id?: string }[]): Promise<ChatCompletionMessageToolCall[]> {
  harness.model.script({ toolCalls });
  const completion = await harness.openai.chat.completions.create({ model: 'scripted', messages: [{ role: 'user', content: 'Pay' }], tools: schemas });
  return completion.choices[0]!.message.tool_calls!;
}

/** Gates a payment in pause mode and returns the paused state as stored JSON, with its approval id. */
async function pausedPayment(amount: number, runId: string): Promise<{ saved: string; approvalId: string }> {
  const gate = await gateToolCalls(await modelCalls({ name: 'send_payment', arguments: { to: 'acme', amount } }), { signoff: harness.newSignoff(), tools: createTools(), runId });
  if (gate.status !== 'paused') throw new Error('expected a pause');
  return { saved: JSON.stringify(gate.state), approvalId: gate.pending[0]!.approvalId! };
}

const restore = (saved: string) => JSON.parse(saved) as PausedToolCalls<ChatToolAnswer>;
const answerOf = (result: { calls: readonly { answer?: ChatToolAnswer }[] }) => result.calls[0]!.answer!.content;

async function eventually(signoff: Signoff, id: string, holds: (approval: ApprovalRequest) => boolean): Promise<ApprovalRequest> {
  for (let attempt = 0; ; attempt += 1) {
    const approval = await signoff.getApproval(id);
    if (holds(approval) || attempt === 100) return approval;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('resumeToolCalls: an approval runs its call once', () => {
  it('runs it once across replayed resumes of the same saved state, a restarted process included', async () => {
    const { saved, approvalId } = await pausedPayment(510, 'replay-thread');
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 510 } });
    const tools = createTools();
    const signoff = harness.newSignoff();

    const first = await resumeToolCalls(restore(saved), { signoff, tools });
    expect(first.calls[0]).toMatchObject({ status: 'ran', answer: { content: 'paid 510 to acme' } });
    const again = await resumeToolCalls(restore(saved), { signoff, tools });
    const restarted = await resumeToolCalls(restore(saved), { signoff: harness.newSignoff(), tools });

    expect(tools.send_payment).toHaveBeenCalledTimes(1);
    for (const later of [again, restarted]) {
      expect(later).toMatchObject({ status: 'complete', calls: [{ status: 'denied' }] });
      expect(answerOf(later)).toMatch(alreadyUsed);
    }
    const approval = await eventually(signoff, approvalId, (each) => each.execution?.outcome !== undefined);
    expect(approval).toMatchObject({ status: 'executed', granted: true, execution: { claimedBy: 'agent', outcome: 'succeeded' } });
  });

  it('runs it once when two resumes of the same state race', async () => {
    const { saved } = await pausedPayment(520, 'race-thread');
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 520 } });
    const tools = createTools();
    const results = await Promise.all([
      resumeToolCalls(restore(saved), { signoff: harness.newSignoff(), tools }),
      resumeToolCalls(restore(saved), { signoff: harness.newSignoff(), tools }),
    ]);
    expect(tools.send_payment).toHaveBeenCalledTimes(1);
    expect(results.map((result) => result.calls[0]!.status).sort()).toEqual(['denied', 'ran']);
    expect(results.map(answerOf).find((answer) => answer !== 'paid 520 to acme')).toMatch(alreadyUsed);
  });

  it('answers a replayed model message (the same tool_call_id) "already used", in pause and block mode', async () => {
    const tools = createTools();
    const calls = await modelCalls({ id: 'call_replayed', name: 'send_payment', arguments: { to: 'acme', amount: 530 } });
    const approving = harness.decideNext('ana', 'approve', { forArgs: { amount: 530 } });
    const first = await gateToolCalls(calls, { signoff: harness.newSignoff(), tools, runId: 'replayed-thread', mode: 'block' });
    await approving;
    expect(first.calls[0]).toMatchObject({ status: 'ran', answer: { content: 'paid 530 to acme' } });

    const paused = await gateToolCalls(calls, { signoff: harness.newSignoff(), tools, runId: 'replayed-thread' });
    const blocked = await gateToolCalls(calls, { signoff: harness.newSignoff(), tools, runId: 'replayed-thread', mode: 'block' });
    expect(tools.send_payment).toHaveBeenCalledTimes(1);
    for (const replay of [paused, blocked]) {
      expect(replay.status).toBe('complete');
      expect(answerOf(replay)).toMatch(alreadyUsed);
    }
  });

  it('runs nothing when the claim cannot be made, and runs once when it can', async () => {
    const { saved, approvalId } = await pausedPayment(540, 'claim-down');
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 540 } });
    const tools = createTools();
    // The control plane answers reads, but its claim endpoint is cut off.
    const claimsCut: typeof fetch = async (input, init) =>
      String(input).endsWith('/execution') ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    const cut = createSignoff({ policy, controlPlane: { url: harness.controlPlane.url, apiKey: harness.controlPlane.agentKey, fetch: claimsCut, maxAttempts: 1 } });

    const refused = await resumeToolCalls(restore(saved), { signoff: cut, tools });
    expect(answerOf(refused)).toMatch(/^Tool call denied: Not run \(fail-closed\): control plane at .* unavailable after 1 attempts/);
    expect(tools.send_payment).not.toHaveBeenCalled();
    expect((await harness.newSignoff().getApproval(approvalId)).status).toBe('approved');

    const resumed = await resumeToolCalls(restore(saved), { signoff: harness.newSignoff(), tools });
    expect(resumed.calls[0]).toMatchObject({ status: 'ran' });
    expect(tools.send_payment).toHaveBeenCalledTimes(1);
  });

  it('decides again with the local policy before using a grant: a call the policy now denies never runs', async () => {
    const { saved, approvalId } = await pausedPayment(550, 'policy-changed');
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 550 } });
    const tools = createTools();
    const stricter = createSignoff({
      policy: 'version: 1\ndefault: deny\nrules:\n  - { tool: send_payment, action: deny, reason: "Payments are frozen" }\n',
      controlPlane: { url: harness.controlPlane.url, apiKey: harness.controlPlane.agentKey },
    });
    const resumed = await resumeToolCalls(restore(saved), { signoff: stricter, tools });
    expect(resumed.calls[0]).toMatchObject({ status: 'denied', answer: { content: 'Tool call denied: Payments are frozen' } });
    expect(tools.send_payment).not.toHaveBeenCalled();
    expect((await harness.newSignoff().getApproval(approvalId)).status).toBe('approved');
  });

  it('reports a handler that throws as a failed execution, and does not run it again', async () => {
    const { saved, approvalId } = await pausedPayment(560, 'throwing');
    await harness.decideNext('ana', 'approve', { forArgs: { amount: 560 } });
    const send_payment = vi.fn(async () => Promise.reject(new Error('bank timeout')));
    const signoff = harness.newSignoff();
    const failed = await resumeToolCalls(restore(saved), { signoff, tools: { send_payment } });
    expect(failed.calls[0]).toMatchObject({ status: 'failed', answer: { content: 'Tool call failed: bank timeout' } });
    const retried = await resumeToolCalls(restore(saved), { signoff, tools: { send_payment } });
    expect(answerOf(retried)).toMatch(alreadyUsed);
    expect(send_payment).toHaveBeenCalledTimes(1);
    const approval = await eventually(signoff, approvalId, (each) => each.execution?.outcome !== undefined);
    expect(approval.execution).toMatchObject({ outcome: 'failed' });
  });

  it('runs allowed calls, and refuses denied ones, without any control-plane traffic', async () => {
    const traffic: string[] = [];
    const tools = createTools();
    const calls = await modelCalls(
      { name: 'get_invoice', arguments: { id: 'inv_1' } },
      { name: 'send_payment', arguments: { to: 'acme', amount: 20 } },
      { name: 'delete_account', arguments: { id: 'acct_1' } },
    );
    const gate = await gateToolCalls(calls, { signoff: harness.newSignoff({ traffic }), tools: { ...tools, delete_account: async () => 'deleted' } });
    expect(gate.calls.map((call) => call.status)).toEqual(['ran', 'ran', 'denied']);
    expect(tools.send_payment).toHaveBeenCalledTimes(1);
    expect(traffic).toEqual([]);
  });
});
