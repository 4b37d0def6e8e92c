import { randomUUID } from 'node:crypto';
import { Agent, OpenAIResponsesModel, run, tool } from '@openai/agents';
import { createSignoff, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { startScriptedOpenAIServer, type ScriptedOpenAIServer } from './testing/scripted-openai-server.js';
import { resolveInterruptions } from './resolve-interruptions.js';
import { withSignoff } from './with-signoff.js';

/**
 * A running total through the Agents SDK: `withSignoff` decides each call in its input guardrail,
 * `needsApproval` and `invoke`, and the call must count once in the control plane's sum.
 */
const POLICY = `
version: 1
default: deny
rules:
  - id: small-payments
    tool: send_payment
    action: allow
    when: { args.amount: { lte: 100 } }
  - id: split-payments
    tool: send_payment
    action: escalate
    when:
      window: { within: 1h, per: [args.to] }
      sum(args.amount): { gt: 1000 }
    metadata: { approver_roles: [finance] }
  - { id: payments, tool: send_payment, action: allow }
`;

let controlPlane: LocalControlPlane;
let model: ScriptedOpenAIServer;
let signoff: Signoff;
beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: POLICY });
  model = await startScriptedOpenAIServer();
  signoff = createSignoff({ policy: POLICY, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
});
afterAll(async () => Promise.all([controlPlane?.close(), model?.close()]));

describe('history rules through the OpenAI Agents SDK (withSignoff) and a real control plane', () => {
  it('counts an allowed payment once, though the guardrail, needsApproval and invoke each decide it', async () => {
    const to = `vendor-${randomUUID().slice(0, 8)}`;
    const sendPayment = vi.fn(async ({ amount }: { to: string; amount: number }) => `paid ${amount}`);
    const payments = tool({ name: 'send_payment', description: 'Pay a vendor', parameters: z.object({ to: z.string(), amount: z.number() }), execute: sendPayment });
    const agent = new Agent({ name: 'Payments', instructions: 'You pay vendors.', model: new OpenAIResponsesModel(new OpenAI({ baseURL: model.baseURL, apiKey: 'sk-test', maxRetries: 0 }), 'scripted'), tools: [withSignoff(payments, signoff, { runId: () => 'run-1' })] });

    for (let index = 0; index < 5; index += 1) {
      model.script({ toolCalls: [{ name: 'send_payment', arguments: { to, amount: 100 } }] });
      expect((await run(agent, `Pay ${to}`)).interruptions).toEqual([]);
    }
    expect(sendPayment).toHaveBeenCalledTimes(5);
    await signoff.flushCalls();
    const recorded = (await controlPlane.history!.list(0)).filter((call) => (call.args as { to: string }).to === to);
    expect(recorded.map((call) => [call.action, call.ruleId])).toEqual(Array.from({ length: 5 }, () => ['allow', 'small-payments']));

    // Over 100 the local policy cannot tell (it needs the history): the run pauses and the control plane decides.
    const payOverHundred = async (amount: number) => {
      model.script({ toolCalls: [{ name: 'send_payment', arguments: { to, amount } }] }, { text: 'Done.' });
      const paused = await run(agent, `Pay ${to}`);
      expect(paused.interruptions).toHaveLength(1);
      const resolved = await resolveInterruptions(paused, signoff, { runId: () => 'run-1' });
      if (resolved.pending.length === 0) await run(agent, resolved.state);
      return resolved;
    };
    // 500 + 400 = 900 (counted three times it would be 1900): approved by the policy, and it runs.
    expect(Object.values((await payOverHundred(400)).approvals)).toMatchObject([{ status: 'approved', ruleId: 'payments' }]);
    expect(sendPayment).toHaveBeenCalledTimes(6);
    // 900 + 200 = 1100: waits for a reviewer.
    const crossing = await payOverHundred(200);
    expect(Object.values(crossing.approvals)).toMatchObject([{ status: 'pending', ruleId: 'split-payments' }]);
    expect(sendPayment).toHaveBeenCalledTimes(6);
  });
});
