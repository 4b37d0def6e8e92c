import { randomUUID } from 'node:crypto';
import { MemorySaver } from '@langchain/langgraph';
import { createSignoff, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsAgent, type ScriptedCall } from './__fixtures__/payments-agent.js';
import { resumeWhenDecided } from './resume-when-decided.js';
import { isSignoffInterrupt, type SignoffInterrupt } from './signoff-interrupt.js';

/**
 * Rules over more than one call, through a real `createAgent` run (scripted model) against a real
 * control plane: payments the local policy allows are reported and counted, the payment whose
 * running total passes the threshold pauses for a reviewer, and the approval runs it once.
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
    reason: "Payments to {args.to} pass $1000 within the hour"
    when:
      window: { within: 1h, per: [args.to] }
      sum(args.amount): { gt: 1000 }
    metadata: { approver_roles: [finance] }
  - { id: payments, tool: send_payment, action: allow }
  - id: refund-burst
    tool: create_refund
    action: escalate
    when: { window: { within: 1h, per: [args.to] }, count: { gte: 3 } }
    metadata: { approver_roles: [finance] }
  - { id: refunds, tool: create_refund, action: allow }
`;

let controlPlane: LocalControlPlane;
let signoff: Signoff;

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: POLICY });
  signoff = createSignoff({ policy: POLICY, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
});
afterAll(async () => {
  await controlPlane?.close();
});

/** One agent run on its own thread, asking for one tool call. */
async function run(call: Omit<ScriptedCall, 'id'>, gated: boolean) {
  const { agent, ran } = createPaymentsAgent({ signoff, gated, checkpointer: new MemorySaver(), calls: [{ ...call, id: `call_${randomUUID().slice(0, 8)}` }] });
  const config = { configurable: { thread_id: randomUUID() } };
  const result = await agent.invoke({ messages: [{ role: 'user', content: 'Pay' }] }, config);
  const pauses = (result.__interrupt__ ?? []).map((pause) => pause.value).filter(isSignoffInterrupt) as SignoffInterrupt[];
  return { agent, ran, config, pause: pauses[0] };
}

describe.each([
  { setup: 'signoffMiddleware', gated: false },
  { setup: 'signoffMiddleware + wrapTool (the recommended setup)', gated: true },
])('history rules through createAgent and a real control plane ($setup)', ({ gated }) => {
  it('split payments: allowed payments are reported and counted; the one that passes 1000 waits for a reviewer, then runs once', async () => {
    const to = `vendor-${randomUUID().slice(0, 8)}`;
    // Five payments the local policy allows on its own: run at once, reported to the control plane.
    for (let index = 0; index < 5; index += 1) expect((await run({ name: 'send_payment', args: { to, amount: 100 } }, gated)).ran).toHaveLength(1);
    await signoff.flushCalls();

    // 500 + 400 = 900: the control plane decides it (allowed), records it, and it runs.
    const fourHundred = await run({ name: 'send_payment', args: { to, amount: 400 } }, gated);
    expect(fourHundred.pause).toBeUndefined();
    expect(fourHundred.ran).toEqual([{ tool: 'send_payment', to, amount: 400 }]);

    // Another payee is another partition: 150 alone is allowed.
    expect((await run({ name: 'send_payment', args: { to: `${to}-other`, amount: 150 } }, gated)).ran).toHaveLength(1);

    // 900 + 200 = 1100 > 1000: paused for a reviewer, not run.
    const crossing = await run({ name: 'send_payment', args: { to, amount: 200 } }, gated);
    expect(crossing.pause).toMatchObject({ tool: 'send_payment', reason: `Payments to ${to} pass $1000 within the hour`, approverRoles: ['finance'] });
    expect(crossing.ran).toEqual([]);

    await controlPlane.decide(crossing.pause!.approvalId, 'ana', 'approve');
    await resumeWhenDecided(crossing.agent, crossing.config);
    expect(crossing.ran).toEqual([{ tool: 'send_payment', to, amount: 200 }]);
    // Resumed again (a webhook delivered twice): the grant was used, nothing runs twice.
    await resumeWhenDecided(crossing.agent, crossing.config, { signoff });
    expect(crossing.ran).toHaveLength(1);

    // The control plane's history holds each payment to this payee once: five reported, two it decided.
    const recorded = (await controlPlane.history!.list(0)).filter((call) => (call.args as { to?: string }).to === to);
    expect(recorded.map(({ action, ruleId, args }) => [action, ruleId, (args as { amount: number }).amount])).toEqual([
      ...Array.from({ length: 5 }, () => ['allow', 'small-payments', 100]),
      ['allow', 'payments', 400],
      ['escalate', 'split-payments', 200],
    ]);
  });

  it('refund burst: the third refund to one customer within the hour waits for a reviewer; approving runs it once', async () => {
    const to = `customer-${randomUUID().slice(0, 8)}`;
    expect((await run({ name: 'create_refund', args: { to, amount: 20 } }, gated)).ran).toHaveLength(1);
    expect((await run({ name: 'create_refund', args: { to, amount: 20 } }, gated)).ran).toHaveLength(1);
    expect((await run({ name: 'create_refund', args: { to: `${to}-other`, amount: 20 } }, gated)).ran).toHaveLength(1);

    const third = await run({ name: 'create_refund', args: { to, amount: 20 } }, gated);
    expect(third.pause).toMatchObject({ tool: 'create_refund', reason: expect.stringContaining('refund-burst') });
    expect(third.ran).toEqual([]);
    await controlPlane.decide(third.pause!.approvalId, 'ana', 'approve');
    await resumeWhenDecided(third.agent, third.config);
    await resumeWhenDecided(third.agent, third.config, { signoff });
    expect(third.ran).toEqual([{ tool: 'create_refund', to, amount: 20 }]);
  });
});
