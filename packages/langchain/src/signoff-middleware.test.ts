import { randomUUID } from 'node:crypto';
import { ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createSignoff, findSignoffError, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingSignoff } from './__fixtures__/counting-signoff.js';
import { createPaymentsAgent, policyFile, type ScriptedCall } from './__fixtures__/payments-agent.js';
import { resumeWhenDecided } from './resume-when-decided.js';
import { isSignoffInterrupt, type SignoffInterrupt } from './signoff-interrupt.js';

let controlPlane: LocalControlPlane;
let signoff: Signoff;

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: policyFile, sweepIntervalSeconds: 0.1 });
  signoff = createSignoff({ policy: policyFile, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
});
afterAll(async () => {
  await controlPlane?.close();
});

function start(calls: ScriptedCall[]) {
  const { agent, ran } = createPaymentsAgent({ signoff, calls, checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: randomUUID() } };
  const invoke = () => agent.invoke({ messages: [{ role: 'user', content: 'Pay our vendors' }] }, config);
  return { agent, ran, config, invoke };
}

function toolMessages(messages: readonly BaseMessage[]): ToolMessage[] {
  return messages.filter((message): message is ToolMessage => ToolMessage.isInstance(message));
}

function signoffInterrupts(result: { __interrupt__?: { id: string; value?: unknown }[] }): { id: string; value: SignoffInterrupt }[] {
  return (result.__interrupt__ ?? []).flatMap((pause) => (isSignoffInterrupt(pause.value) ? [{ id: pause.id, value: pause.value }] : []));
}

describe('signoffMiddleware', () => {
  it('refuses an escalation without a thread_id with INVALID_ARGUMENT, found through LangChain’s wrapping', async () => {
    const { agent, ran } = createPaymentsAgent({ signoff, calls: [{ name: 'wire_transfer', args: { to: 'globex', amount: 9 }, id: 'call_nothread' }], checkpointer: new MemorySaver() });
    const error = await agent.invoke({ messages: [{ role: 'user', content: 'Wire it' }] }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(findSignoffError(error)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('thread_id') });
    expect(ran).toEqual([]);
  });

  it('refuses an escalation in an agent without a checkpointer before asking anyone: no request is left pending', async () => {
    const { agent, ran } = createPaymentsAgent({ signoff, calls: [{ name: 'wire_transfer', args: { to: 'globex', amount: 7 }, id: 'call_nocheckpointer' }] });
    const threadId = randomUUID();
    const error = await agent.invoke({ messages: [{ role: 'user', content: 'Wire it' }] }, { configurable: { thread_id: threadId } }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(findSignoffError(error)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('needs a checkpointer') });
    expect(ran).toEqual([]);
    expect(await signoff.findApproval(`${threadId}:call_nocheckpointer`)).toBeUndefined();
  });

  it('runs an allowed call', async () => {
    const { ran, invoke } = start([{ name: 'send_payment', args: { to: 'acme', amount: 40 }, id: 'call_small' }]);
    const result = await invoke();
    expect(ran).toEqual([{ tool: 'send_payment', to: 'acme', amount: 40 }]);
    expect(toolMessages(result.messages)[0]).toMatchObject({ content: 'send_payment: 40 to acme done', status: 'success' });
    expect(result.__interrupt__).toBeUndefined();
  });

  it.each([{ tools: 'plain tools', gated: false }, { tools: 'wrapTool-gated tools', gated: true }])('runs allowed calls without any control-plane traffic ($tools)', async ({ gated }) => {
    const counting = countingSignoff(controlPlane);
    const { agent, ran } = createPaymentsAgent({
      signoff: counting.signoff,
      gated,
      checkpointer: new MemorySaver(),
      calls: [
        { name: 'send_payment', args: { to: 'acme', amount: 40 }, id: 'call_a' },
        { name: 'wire_transfer', args: { to: 'globex', amount: 0 }, id: 'call_b' },
      ],
    });
    const result = await agent.invoke({ messages: [{ role: 'user', content: 'Pay' }] }, { configurable: { thread_id: randomUUID() } });
    // The small payment runs; every wire escalates and pauses: its request is the only traffic.
    expect(ran).toEqual([{ tool: 'send_payment', to: 'acme', amount: 40 }]);
    expect(signoffInterrupts(result).map((pause) => pause.value.toolCallId)).toEqual(['call_b']);
    expect(counting.requests).toEqual(['POST /v1/approvals']);
  });

  it('answers a denied call with an error ToolMessage carrying the policy reason; the tool never runs', async () => {
    const { ran, invoke } = start([{ name: 'delete_account', args: { to: 'acme', amount: 0 }, id: 'call_delete' }]);
    const result = await invoke();
    expect(ran).toEqual([]);
    expect(toolMessages(result.messages)[0]).toMatchObject({ content: 'Deleting accounts is never done by an agent', status: 'error', tool_call_id: 'call_delete' });
    expect(result.messages.at(-1)?.content).toBe('Done.');
  });

  it('pauses an escalated call with a typed interrupt, then runs the reviewer-edited args once approved', async () => {
    const { agent, ran, config, invoke } = start([{ name: 'send_payment', args: { to: 'acme', amount: 500 }, id: 'call_big' }]);
    const paused = await invoke();
    const [pause, ...others] = signoffInterrupts(paused);
    expect(others).toEqual([]);
    expect(pause?.value).toMatchObject({
      type: 'signoff.approval',
      tool: 'send_payment',
      args: { to: 'acme', amount: 500 },
      toolCallId: 'call_big',
      reason: 'Payments over $100 require approval (500 to acme)',
      requiredApprovals: 1,
      approverRoles: ['finance'],
      inboxUrl: `https://signoff.test/inbox/${pause?.value.approvalId}`,
    });
    expect(ran).toEqual([]);

    await controlPlane.decide(pause!.value.approvalId, 'ana', 'approve', { args: { to: 'acme', amount: 450 } });
    const result = await resumeWhenDecided(agent, config);
    expect(ran).toEqual([{ tool: 'send_payment', to: 'acme', amount: 450 }]);
    expect(toolMessages(result.messages)[0]).toMatchObject({ content: 'send_payment: 450 to acme done', tool_call_id: 'call_big' });
    expect(result.__interrupt__).toBeUndefined();
    // Claimed before it ran (single use), and the outcome reported.
    expect(await signoff.getApproval(pause!.value.approvalId)).toMatchObject({ status: 'executed', execution: { outcome: 'succeeded' } });
  });

  it('answers a reviewer denial with an error ToolMessage carrying the comment', async () => {
    const { agent, ran, config, invoke } = start([{ name: 'send_payment', args: { to: 'mallory', amount: 900 }, id: 'call_big' }]);
    const [pause] = signoffInterrupts(await invoke());
    await controlPlane.decide(pause!.value.approvalId, 'ana', 'deny', { comment: 'unknown vendor' });
    const result = await resumeWhenDecided(agent, config);
    expect(ran).toEqual([]);
    expect(toolMessages(result.messages)[0]).toMatchObject({ content: 'Denied by Ana Lima: unknown vendor', status: 'error' });
  });

  it('does not run a call nobody decided in time (timeout_action deny)', async () => {
    const { agent, ran, config, invoke } = start([{ name: 'wire_transfer', args: { to: 'acme', amount: 5000 }, id: 'call_wire' }]);
    expect(signoffInterrupts(await invoke())).toHaveLength(1);
    const result = await resumeWhenDecided(agent, config);
    expect(ran).toEqual([]);
    expect(toolMessages(result.messages)[0]?.status).toBe('error');
    expect(toolMessages(result.messages)[0]?.content).toMatch(/No decision within .*timeout_action deny refuses it/);
  });

  it('pauses parallel escalations with one interrupt each and decides them independently', async () => {
    const { agent, ran, config, invoke } = start([
      { name: 'send_payment', args: { to: 'acme', amount: 300 }, id: 'call_acme' },
      { name: 'send_payment', args: { to: 'globex', amount: 700 }, id: 'call_globex' },
      { name: 'send_payment', args: { to: 'initech', amount: 20 }, id: 'call_small' },
    ]);
    const pauses = signoffInterrupts(await invoke());
    expect(pauses.map((pause) => pause.value.toolCallId).sort()).toEqual(['call_acme', 'call_globex']);
    expect(ran).toEqual([{ tool: 'send_payment', to: 'initech', amount: 20 }]);

    const byCall = new Map(pauses.map((pause) => [pause.value.toolCallId, pause.value.approvalId]));
    await controlPlane.decide(byCall.get('call_acme')!, 'ana', 'approve');
    await controlPlane.decide(byCall.get('call_globex')!, 'ana', 'deny', { comment: 'not this month' });
    const result = await resumeWhenDecided(agent, config);

    expect(ran).toEqual([
      { tool: 'send_payment', to: 'initech', amount: 20 },
      { tool: 'send_payment', to: 'acme', amount: 300 },
    ]);
    const messages = new Map(toolMessages(result.messages).map((message) => [message.tool_call_id, message]));
    expect(messages.get('call_acme')).toMatchObject({ content: 'send_payment: 300 to acme done' });
    expect(messages.get('call_globex')).toMatchObject({ content: 'Denied by Ana Lima: not this month', status: 'error' });
    expect(messages.get('call_small')).toMatchObject({ content: 'send_payment: 20 to initech done' });
  });

  it('refuses forged resume values: the tool runs only when the control plane approved this call', async () => {
    const { agent, ran, config, invoke } = start([{ name: 'send_payment', args: { to: 'mallory', amount: 9000 }, id: 'call_forged' }]);
    const [pause] = signoffInterrupts(await invoke());

    // Another call, approved for real, whose id a forger could reuse.
    const other = start([{ name: 'send_payment', args: { to: 'acme', amount: 150 }, id: 'call_other' }]);
    const [otherPause] = signoffInterrupts(await other.invoke());
    await controlPlane.decide(otherPause!.value.approvalId, 'ana', 'approve');

    const forgeries = [{ approved: true }, { approvalId: otherPause!.value.approvalId, status: 'approved' }, 'approve'];
    let latest = pause!;
    for (const forged of forgeries) {
      const result = await agent.invoke(new Command({ resume: { [latest.id]: forged } }), config);
      expect(ran).toEqual([]);
      // Still pending on the control plane, so the call pauses again instead of running.
      const [again] = signoffInterrupts(result);
      expect(again?.id).not.toBe(latest.id); // the forged value was consumed, then refused
      expect(again?.value.approvalId).toBe(pause!.value.approvalId);
      latest = again!;
    }

    await controlPlane.decide(pause!.value.approvalId, 'ana', 'deny', { comment: 'fraud' });
    const result = await resumeWhenDecided(agent, config);
    expect(ran).toEqual([]);
    expect(toolMessages(result.messages)[0]).toMatchObject({ content: 'Denied by Ana Lima: fraud', status: 'error' });
  });

  it('treats an escalation without a thread_id as misuse: the run fails and the tool never runs', async () => {
    const { agent, ran } = createPaymentsAgent({ signoff, calls: [{ name: 'send_payment', args: { to: 'acme', amount: 500 }, id: 'call_big' }], checkpointer: new MemorySaver() });
    const error = await agent.invoke({ messages: [{ role: 'user', content: 'Pay' }] }).catch((caught: unknown) => caught);
    const cause = (error as { cause?: unknown }).cause ?? error;
    expect(cause).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('thread_id') });
    expect(ran).toEqual([]);
  });

  it('closes the call when the control plane cannot be reached', async () => {
    const unreachable = createSignoff({ policy: policyFile, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'nope', maxAttempts: 1 } });
    const { agent, ran } = createPaymentsAgent({ signoff: unreachable, calls: [{ name: 'send_payment', args: { to: 'acme', amount: 500 }, id: 'call_big' }], checkpointer: new MemorySaver() });
    const result = await agent.invoke({ messages: [{ role: 'user', content: 'Pay' }] }, { configurable: { thread_id: randomUUID() } });
    expect(ran).toEqual([]);
    expect(toolMessages(result.messages)[0]).toMatchObject({ status: 'error' });
    expect(toolMessages(result.messages)[0]?.content).toMatch(/^Not run \(fail-closed\): control plane at .* unavailable/);
  });
});
