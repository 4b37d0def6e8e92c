import { tool } from '@langchain/core/tools';
import { createSignoff, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { policyFile } from './__fixtures__/payments-agent.js';
import { ToolDeniedError } from './tool-denied-error.js';
import { wrapTool } from './wrap-tool.js';

let controlPlane: LocalControlPlane;
let signoff: Signoff;

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: policyFile });
  signoff = createSignoff({ policy: policyFile, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
});
afterAll(async () => {
  await controlPlane?.close();
});

function paymentTool() {
  const ran: { to: string; amount: number }[] = [];
  const sendPayment = tool(
    async ({ to, amount }) => {
      ran.push({ to, amount });
      return `paid ${amount} to ${to}`;
    },
    { name: 'send_payment', description: 'Pay a vendor', schema: z.object({ to: z.string(), amount: z.number() }) },
  );
  return { ran, guarded: wrapTool(sendPayment, signoff) };
}

/** A reviewer that approves or denies the first request it can act on, as soon as one appears. */
async function reviewFirst(verdict: 'approve' | 'deny', extra: { comment?: string; args?: unknown } = {}): Promise<void> {
  for (;;) {
    const [request] = await controlPlane.actionable('ana');
    if (request) {
      await controlPlane.decide(request.id, 'ana', verdict, extra);
      return;
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

  it('runs an allowed call straight away', async () => {
    const { ran, guarded } = paymentTool();
    await expect(guarded.invoke({ to: 'acme', amount: 20 })).resolves.toBe('paid 20 to acme');
    expect(ran).toEqual([{ to: 'acme', amount: 20 }]);
  });

  it('waits inside the call for approval, then runs the approved (edited) args', async () => {
    const { ran, guarded } = paymentTool();
    const [output] = await Promise.all([guarded.invoke({ to: 'acme', amount: 500 }), reviewFirst('approve', { args: { to: 'acme', amount: 400 } })]);
    expect(output).toBe('paid 400 to acme');
    expect(ran).toEqual([{ to: 'acme', amount: 400 }]);
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
