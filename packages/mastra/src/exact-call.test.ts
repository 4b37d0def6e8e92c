import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resumeWithSignoff } from './resume-with-signoff.js';
import { callId, eventuallyPending, lastToolResults, mastraUnsupportedNode, startPayer, startWorld, type World } from './__fixtures__/payments.js';

/** Mastra's approval bug family: a decision must reach exactly the call it was made for. */
describe.skipIf(mastraUnsupportedNode)('decisions reach exactly their own tool call', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.controlPlane.close();
  });

  const twoPayments = (first: string, second: string) => ({
    toolCalls: [
      { id: first, name: 'payment_send', input: { to: 'acme', amount: 500 } },
      { id: second, name: 'payment_send', input: { to: 'globex', amount: 700 } },
    ],
  });

  test("a decision for one call never resumes the run's other suspended call", async () => {
    const [first, second] = [callId('first'), callId('second')];
    const payer = startPayer(world.signoff, [twoPayments(first, second), { text: 'done' }]);
    const suspended = await payer.agent.generate('Pay acme and globex');
    expect(suspended.suspendPayload).toMatchObject({ toolCallId: first });

    // Asked to resume the second call while the run waits on the first: nothing is filed or resumed.
    expect(await resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId!, toolCallId: second })).toMatchObject({ status: 'stale' });
    expect(await world.signoff.findApproval(`mastra:${suspended.runId}:${second}`)).toBeUndefined();

    const resuming = resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId!, toolCallId: first });
    await world.controlPlane.decide((await eventuallyPending(world.controlPlane, `mastra:${suspended.runId}:${first}`)).id, 'ana', 'approve');
    const resumed = await resuming;

    expect(resumed.status).toBe('approved');
    expect(payer.executed).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 500 } }]);
    // The run now waits on the second call, which nobody approved.
    const output = resumed.status === 'approved' ? resumed.output : undefined;
    expect(output?.finishReason).toBe('suspended');
    expect(output?.suspendPayload).toMatchObject({ toolCallId: second });
    // Replaying the first call's resume does not touch the second.
    expect(await resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId!, toolCallId: first })).toMatchObject({ status: 'stale' });
    expect(payer.executed).toHaveLength(1);
  });

  test('a stale decision against a newer suspended call resumes nothing', async () => {
    const [first, second] = [callId('old'), callId('new')];
    const payer = startPayer(world.signoff, [twoPayments(first, second), { text: 'done' }]);
    const suspended = await payer.agent.generate('Pay acme and globex');
    const filed = await resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId!, toolCallId: first, wait: false });
    expect(filed.status).toBe('pending');
    // The first call is declined some other way; the run moves on and suspends on the second.
    const moved = await payer.agent.declineToolCallGenerate({ runId: suspended.runId!, toolCallId: first, reason: 'user cancelled' });
    expect(moved.suspendPayload).toMatchObject({ toolCallId: second });

    // Then reviewers approve the first call's request: that approval must not resume the second.
    const resuming = resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId!, toolCallId: first });
    await world.controlPlane.decide(filed.status === 'pending' ? filed.approval.id : '', 'ana', 'approve');
    expect(await resuming).toMatchObject({ status: 'stale', toolCallId: first });
    expect(payer.executed).toEqual([]);
    expect((await payer.agent.listSuspendedRuns()).runs.find((run) => run.runId === suspended.runId)?.toolCalls).toMatchObject([{ toolCallId: second }]);
  });

  test('an approval for other args under the same call id runs nothing', async () => {
    const id = callId('swapped');
    const payer = startPayer(world.signoff, [{ toolCalls: [{ id, name: 'payment_send', input: { to: 'acme', amount: 500 } }] }, { text: 'hm' }]);
    const suspended = await payer.agent.generate('Pay acme $500');
    // A request under this call's key, but for other args, approved by a reviewer.
    const other = world.signoff.guard('payment_send', { to: 'mallory', amount: 500 });
    const approval = await world.signoff.requestApproval(other, { idempotencyKey: `mastra:${suspended.runId}:${id}` });
    await world.controlPlane.decide(approval.id, 'ana', 'approve');

    // The control plane refuses to reuse the key for these args; the helper resumes nothing.
    await expect(resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId! })).rejects.toThrow(/IDEMPOTENCY_CONFLICT/);
    expect((await payer.agent.listSuspendedRuns()).runs.map((run) => run.runId)).toContain(suspended.runId);
    // Approved directly, the tool's own gate finds the approval is for other args.
    await payer.agent.approveToolCallGenerate({ runId: suspended.runId!, toolCallId: id });
    expect(payer.executed).toEqual([]);
    expect(JSON.stringify(lastToolResults(payer.model.prompts)[id])).toContain('different args');
  });
});
