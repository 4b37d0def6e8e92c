import { randomUUID } from 'node:crypto';
import { ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { MemorySaver } from '@langchain/langgraph';
import { createSignoff, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { countingSignoff } from './__fixtures__/counting-signoff.js';
import { createPaymentsAgent, policyFile } from './__fixtures__/payments-agent.js';
import { ToolDeniedError } from './tool-denied-error.js';
import { withApprovalId, wrapTool } from './wrap-tool.js';

let controlPlane: LocalControlPlane;
let signoff: Signoff;

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: policyFile });
  signoff = createSignoff({ policy: policyFile, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
});
afterAll(async () => {
  await controlPlane?.close();
});

function paymentTool(client: Signoff = signoff) {
  const ran: { to: string; amount: number }[] = [];
  const sendPayment = tool(
    async ({ to, amount }) => {
      ran.push({ to, amount });
      return `paid ${amount} to ${to}`;
    },
    { name: 'send_payment', description: 'Pay a vendor', schema: z.object({ to: z.string(), amount: z.number() }) },
  );
  return { ran, guarded: wrapTool(sendPayment, client) };
}

/** A reviewer that approves or denies the first request it can act on, as soon as one appears. */
async function reviewFirst(verdict: 'approve' | 'deny', extra: { comment?: string; args?: unknown } = {}): Promise<string> {
  for (;;) {
    const [request] = await controlPlane.actionable('ana');
    if (request) {
      await controlPlane.decide(request.id, 'ana', verdict, extra);
      return request.id;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('wrapTool (blocking mode)', () => {
  it('keeps the tool name, description and schema', () => {
    const { guarded } = paymentTool();
    expect(guarded.name).toBe('send_payment');
    expect(guarded.description).toBe('Pay a vendor');
  });

  it('runs an allowed call straight away, without any control-plane traffic', async () => {
    const counting = countingSignoff(controlPlane);
    const { ran, guarded } = paymentTool(counting.signoff);
    await expect(guarded.invoke({ to: 'acme', amount: 20 })).resolves.toBe('paid 20 to acme');
    expect(ran).toEqual([{ to: 'acme', amount: 20 }]);
    expect(counting.requests).toEqual([]);
  });

  it('waits inside the call for approval, claims it, then runs the approved (edited) args and reports the outcome', async () => {
    const { ran, guarded } = paymentTool();
    const [output, approvalId] = await Promise.all([guarded.invoke({ to: 'acme', amount: 500 }), reviewFirst('approve', { args: { to: 'acme', amount: 400 } })]);
    expect(output).toBe('paid 400 to acme');
    expect(ran).toEqual([{ to: 'acme', amount: 400 }]);
    expect(await signoff.getApproval(approvalId)).toMatchObject({ status: 'executed', execution: { outcome: 'succeeded' } });
  });

  it('throws ToolDeniedError with the reviewer resolution when denied', async () => {
    const { ran, guarded } = paymentTool();
    const [error] = await Promise.all([guarded.invoke({ to: 'mallory', amount: 900 }).catch((caught: unknown) => caught), reviewFirst('deny', { comment: 'unknown vendor' })]);
    expect(ToolDeniedError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'APPROVAL_DENIED', tool: 'send_payment', reason: 'Denied by Ana Lima: unknown vendor', approval: { status: 'denied' } });
    expect(ran).toEqual([]);
  });

  it('throws ToolDeniedError for a call the policy denies, without asking anyone', async () => {
    const deleteAccount = tool(async () => 'deleted', { name: 'delete_account', description: 'Delete', schema: z.object({ to: z.string(), amount: z.number() }) });
    const error = await wrapTool(deleteAccount, signoff).invoke({ to: 'acme', amount: 0 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'APPROVAL_DENIED', reason: 'Deleting accounts is never done by an agent', approval: undefined });
  });
});

function toolMessages(messages: readonly BaseMessage[]): ToolMessage[] {
  return messages.filter((message): message is ToolMessage => ToolMessage.isInstance(message));
}

/** An approval request for a call, made the way signoffMiddleware makes it (idempotent on thread + tool call id). */
async function requestFor(threadId: string, toolCallId: string, args: { to: string; amount: number }) {
  return signoff.requestApproval(signoff.guard('send_payment', args), { idempotencyKey: `${threadId}:${toolCallId}` });
}

describe('wrapTool inside a graph run (the tool-level gate)', () => {
  it('without signoffMiddleware (left out, or a framework that skips wrapToolCall), an escalated and a denied call never run; the model reads why', async () => {
    const { agent, ran } = createPaymentsAgent({
      signoff,
      gated: true,
      middleware: false,
      checkpointer: new MemorySaver(),
      calls: [
        { name: 'send_payment', args: { to: 'acme', amount: 500 }, id: 'call_big' },
        { name: 'delete_account', args: { to: 'acme', amount: 0 }, id: 'call_delete' },
        { name: 'send_payment', args: { to: 'acme', amount: 40 }, id: 'call_small' },
      ],
    });
    const threadId = randomUUID();
    const result = await agent.invoke({ messages: [{ role: 'user', content: 'Pay and clean up' }] }, { configurable: { thread_id: threadId } });

    expect(ran).toEqual([{ tool: 'send_payment', to: 'acme', amount: 40 }]);
    const messages = new Map(toolMessages(result.messages).map((message) => [message.tool_call_id, message]));
    expect(messages.get('call_big')).toMatchObject({
      status: 'error',
      content: 'Not run: this call needs approval (Payments over $100 require approval (500 to acme)) and none was requested for it; gate the agent with signoffMiddleware so the run pauses until reviewers decide',
    });
    expect(messages.get('call_delete')).toMatchObject({ status: 'error', content: 'Deleting accounts is never done by an agent' });
    expect(messages.get('call_small')).toMatchObject({ status: 'success', content: 'send_payment: 40 to acme done' });
    expect(result.messages.at(-1)?.content).toBe('Done.');
    expect(await signoff.findApproval(`${threadId}:call_big`)).toBeUndefined(); // the gate finds, it never asks
  });

  it('finds the approval by thread and tool call id, refuses it while pending, then claims it once and runs the approved args', async () => {
    const { ran, guarded } = paymentTool();
    const threadId = randomUUID();
    const call = { name: 'send_payment', args: { to: 'acme', amount: 500 }, id: 'call_1', type: 'tool_call' as const };
    const config = { configurable: { thread_id: threadId } };
    const approval = await requestFor(threadId, 'call_1', call.args);

    const pending = await guarded.invoke(call, config);
    expect(pending).toMatchObject({ status: 'error', content: `approval ${approval.id} is still pending` });

    await controlPlane.decide(approval.id, 'ana', 'approve', { args: { to: 'acme', amount: 450 } });
    const first = await guarded.invoke(call, config);
    const again = await guarded.invoke(call, config);
    expect(ran).toEqual([{ to: 'acme', amount: 450 }]);
    expect(first).toMatchObject({ status: 'success', content: 'paid 450 to acme', tool_call_id: 'call_1' });
    expect(again).toMatchObject({ status: 'error', content: expect.stringMatching(new RegExp(`^approval ${approval.id} was already used at .*; an approval runs its call once$`)) });
    expect(await signoff.getApproval(approval.id)).toMatchObject({ status: 'executed', execution: { outcome: 'succeeded' } });
  });

  it('accepts the reviewer-edited args a hook already swapped in, and refuses args the approval does not cover', async () => {
    const { ran, guarded } = paymentTool();
    const threadId = randomUUID();
    const config = { configurable: { thread_id: threadId } };
    const approval = await requestFor(threadId, 'call_2', { to: 'acme', amount: 500 });
    await controlPlane.decide(approval.id, 'ana', 'approve', { args: { to: 'acme', amount: 450 } });

    const other = await guarded.invoke({ name: 'send_payment', args: { to: 'mallory', amount: 450 }, id: 'call_2', type: 'tool_call' }, config);
    expect(other).toMatchObject({ status: 'error', content: `approval ${approval.id} covers other args than this call's` });
    const swapped = await guarded.invoke({ name: 'send_payment', args: { to: 'acme', amount: 450 }, id: 'call_2', type: 'tool_call' }, config);
    expect(swapped).toMatchObject({ status: 'success', content: 'paid 450 to acme' });
    expect(ran).toEqual([{ to: 'acme', amount: 450 }]);
  });

  it('claims the approval the middleware hands over even when its own policy copy would allow the (edited) args', async () => {
    const { ran, guarded } = paymentTool();
    const threadId = randomUUID();
    const config = { configurable: { thread_id: threadId } };
    const approval = await requestFor(threadId, 'call_3', { to: 'acme', amount: 500 });
    await controlPlane.decide(approval.id, 'ana', 'approve', { args: { to: 'acme', amount: 50 } });

    const handedOver = withApprovalId({ name: 'send_payment', args: { to: 'acme', amount: 50 }, id: 'call_3', type: 'tool_call' }, approval.id);
    const first = await guarded.invoke(handedOver, config);
    const replayed = await guarded.invoke(handedOver, config);
    expect(ran).toEqual([{ to: 'acme', amount: 50 }]);
    expect(first).toMatchObject({ status: 'success', content: 'paid 50 to acme' });
    expect(replayed).toMatchObject({ status: 'error', content: expect.stringContaining('already used at') });
  });

  it('closes the call when the control plane cannot be reached', async () => {
    const unreachable = createSignoff({ policy: policyFile, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'nope', maxAttempts: 1 } });
    const { ran, guarded } = paymentTool(unreachable);
    const output = await guarded.invoke({ name: 'send_payment', args: { to: 'acme', amount: 500 }, id: 'call_4', type: 'tool_call' }, { configurable: { thread_id: randomUUID() } });
    expect(ran).toEqual([]);
    expect(output).toMatchObject({ status: 'error', content: expect.stringMatching(/^Not run \(fail-closed\): control plane at .* unavailable/) });
  });
});
