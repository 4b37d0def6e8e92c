import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resumeWithSignoff } from './resume-with-signoff.js';
import { isSignoffRefusal, isSignoffTool, withSignoff } from './with-signoff.js';
import { paymentTools, callId, eventuallyPending, lastToolResults, mastraUnsupportedNode, payAcme, startPayer, startWorld, type World } from './__fixtures__/payments.js';

describe.skipIf(mastraUnsupportedNode)('withSignoff + resumeWithSignoff on a real Mastra agent and control plane', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.controlPlane.close();
  });

  test('an allowed call runs at once, with no suspension and no request', async () => {
    const id = callId('small');
    const payer = startPayer(world.signoff, [payAcme(id, 50), { text: 'paid' }]);
    const output = await payer.agent.generate('Pay acme $50');
    expect(output.finishReason).toBe('stop');
    expect(payer.executed).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 50 } }]);
    expect(await world.signoff.findApproval(`mastra:${output.runId}:${id}`)).toBeUndefined();
  });

  test('a denied call never executes: the model reads the refusal with the policy reason', async () => {
    const id = callId('huge');
    const payer = startPayer(world.signoff, [payAcme(id, 50_000), { text: 'refused' }]);
    const output = await payer.agent.generate('Pay acme $50,000');
    expect(output.finishReason).toBe('stop');
    expect(payer.executed).toEqual([]);
    const result = lastToolResults(payer.model.prompts)[id];
    expect(isSignoffRefusal(result)).toBe(true);
    expect(result).toMatchObject({ reason: 'Payments over $10,000 are never made by an agent' });
  });

  test('an escalated call suspends natively, and runs once after the control plane approves it', async () => {
    const id = callId('big');
    const payer = startPayer(world.signoff, [payAcme(id), { text: 'paid' }]);
    const suspended = await payer.agent.generate('Pay acme $500');
    expect(suspended.finishReason).toBe('suspended');
    expect(suspended.suspendPayload).toMatchObject({ toolCallId: id, toolName: 'payment_send', args: { to: 'acme', amount: 500 } });
    expect(payer.executed).toEqual([]);

    const resuming = resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId! });
    const request = await eventuallyPending(world.controlPlane, `mastra:${suspended.runId}:${id}`);
    expect(payer.executed).toEqual([]);
    await world.controlPlane.decide(request.id, 'ana', 'approve');
    const resumed = await resuming;

    expect(resumed.status).toBe('approved');
    expect(payer.executed).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 500 } }]);
    expect(await world.signoff.getApproval(request.id)).toMatchObject({ status: 'executed' });
    // A replayed resume finds nothing suspended and runs nothing.
    expect(await resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId! })).toMatchObject({ status: 'stale' });
    expect(payer.executed).toHaveLength(1);
  });

  test('a reviewer deny declines that call: it never executes and the model reads the reason', async () => {
    const id = callId('denied');
    const payer = startPayer(world.signoff, [payAcme(id), { text: 'not paid' }]);
    const suspended = await payer.agent.generate('Pay acme $500');
    const resuming = resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId! });
    const request = await eventuallyPending(world.controlPlane, `mastra:${suspended.runId}:${id}`);
    await world.controlPlane.decide(request.id, 'ana', 'deny', { comment: 'not this vendor' });
    const resumed = await resuming;

    expect(resumed.status).toBe('declined');
    expect(payer.executed).toEqual([]);
    expect(JSON.stringify(lastToolResults(payer.model.prompts)[id])).toContain('not this vendor');
  });

  test('reviewer-edited args are the ones that run', async () => {
    const id = callId('edited');
    const payer = startPayer(world.signoff, [payAcme(id, 900), { text: 'paid' }]);
    const suspended = await payer.agent.generate('Pay acme $900');
    const resuming = resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId! });
    const request = await eventuallyPending(world.controlPlane, `mastra:${suspended.runId}:${id}`);
    await world.controlPlane.decide(request.id, 'ana', 'approve', { args: { to: 'acme', amount: 450 } });
    expect((await resuming).status).toBe('approved');
    expect(payer.executed).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 450 } }]);
  });

  test('a direct approveToolCall, without the control plane, runs nothing', async () => {
    const id = callId('forged');
    const payer = startPayer(world.signoff, [payAcme(id), { text: 'hm' }]);
    const suspended = await payer.agent.generate('Pay acme $500');
    const output = await payer.agent.approveToolCallGenerate({ runId: suspended.runId!, toolCallId: id });

    expect(output.finishReason).toBe('stop');
    expect(payer.executed).toEqual([]);
    expect(lastToolResults(payer.model.prompts)[id]).toMatchObject({ status: 'refused', refusedBy: 'signoff' });
  });

  test('a direct approveToolCall while the request is still pending runs nothing', async () => {
    const id = callId('early');
    const payer = startPayer(world.signoff, [payAcme(id), { text: 'hm' }]);
    const suspended = await payer.agent.generate('Pay acme $500');
    const filed = await resumeWithSignoff(payer.agent, world.signoff, { runId: suspended.runId!, wait: false });
    expect(filed.status).toBe('pending');
    await payer.agent.approveToolCallGenerate({ runId: suspended.runId!, toolCallId: id });

    expect(payer.executed).toEqual([]);
    expect(JSON.stringify(lastToolResults(payer.model.prompts)[id])).toContain('still pending');
  });

  test('control plane down: the resume helper throws, the run stays suspended, nothing runs', async () => {
    const { startLocalControlPlane } = await import('@signoff/server');
    const { policy, connect } = await import('./__fixtures__/payments.js');
    const doomed = await startLocalControlPlane({ policy });
    const signoff = connect(doomed);
    const id = callId('down');
    const payer = startPayer(signoff, [payAcme(id), { text: 'hm' }]);
    const suspended = await payer.agent.generate('Pay acme $500');
    await doomed.close();

    await expect(resumeWithSignoff(payer.agent, signoff, { runId: suspended.runId! })).rejects.toMatchObject({ code: 'CONTROL_PLANE_UNAVAILABLE' });
    expect((await payer.agent.listSuspendedRuns()).runs.map((run) => run.runId)).toContain(suspended.runId);
    // Even approved directly, the tool's own gate cannot reach the control plane and refuses.
    await payer.agent.approveToolCallGenerate({ runId: suspended.runId!, toolCallId: id });
    expect(payer.executed).toEqual([]);
    expect(JSON.stringify(lastToolResults(payer.model.prompts)[id])).toContain('fail-closed');
  });

  test('a path that skips requireApproval and calls execute directly still runs nothing unapproved', async () => {
    const executed: Array<{ tool: string; input: unknown }> = [];
    const tools = withSignoff(paymentTools(executed), world.signoff);
    expect(isSignoffTool(tools.payment_send)).toBe(true);
    const run = (input: unknown, context: unknown) => tools.payment_send.execute!(input as never, context as never);

    expect(await run({ to: 'acme', amount: 500 }, { runId: 'run-skip', agent: { toolCallId: callId('skip') } })).toMatchObject({ status: 'refused', reason: expect.stringContaining('no approval was requested') });
    expect(await run({ to: 'acme', amount: 500 }, {})).toMatchObject({ status: 'refused' });
    expect(await run({ to: 'acme', amount: 50_000 }, {})).toMatchObject({ status: 'refused', reason: 'Payments over $10,000 are never made by an agent' });
    expect(executed).toEqual([]);
    expect(await run({ to: 'acme', amount: 50 }, {})).toEqual({ ok: true, paid: 50 });
    expect(executed).toHaveLength(1);
  });

  test('tools that are not Mastra tools are refused at setup', () => {
    expect(() => withSignoff({ payment_send: { description: 'Send', execute: async () => ({}) } }, world.signoff)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
