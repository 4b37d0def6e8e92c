import { generateText, stepCountIs } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callId, lastToolResults, pendingRequest, startPaymentsWorld, type PaymentsWorld } from './__fixtures__/payments.js';
import { scriptedModel } from './__fixtures__/scripted-model.js';
import { withSignoff } from './with-signoff.js';

let world: PaymentsWorld;
beforeAll(async () => {
  world = await startPaymentsWorld();
});
afterAll(async () => {
  await world.controlPlane.close();
});

/** One blocking run: the model calls one tool, then answers. */
async function runBlocking(toolName: string, input: unknown, options: Parameters<typeof withSignoff>[2] = {}) {
  const id = callId(toolName);
  const model = scriptedModel([{ toolCalls: [{ id, name: toolName, input }] }, { text: 'Finished.' }]);
  const before = world.executed.length;
  const running = generateText({ model, tools: withSignoff(world.tools, world.signoff, options), prompt: 'Go', stopWhen: stepCountIs(5) });
  return { id, model, running, ran: () => world.executed.slice(before) };
}

/** Decides the request for a call as soon as it shows up on the control plane. */
async function decideWhenOpen(id: string, verdict: 'approve' | 'deny', extra: { args?: unknown } = {}) {
  for (;;) {
    const request = await pendingRequest(world, id).catch(() => undefined);
    if (request) return world.controlPlane.decide(request.id, 'ana', verdict, extra);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('withSignoff (blocking mode)', () => {
  it('runs an allowed call', async () => {
    const { running, ran } = await runBlocking('payment_send', { to: 'acme', amount: 40 });
    expect((await running).text).toBe('Finished.');
    expect(ran()).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 40 } }]);
  });

  it('returns an execution-denied result the model reads for a denied call', async () => {
    const { id, model, running, ran } = await runBlocking('record_delete', { id: 'r9' });
    const result = await running;
    expect(ran()).toEqual([]);
    expect(lastToolResults(model.prompts)).toEqual([expect.objectContaining({ toolCallId: id, output: { type: 'execution-denied', reason: 'Deleting records is not allowed' } })]);
    expect(result.toolResults[0]?.output).toEqual({ type: 'execution-denied', reason: 'Deleting records is not allowed', deniedBy: 'signoff' });
  });

  it('waits inside execute for the reviewers, then runs the approved call once', async () => {
    const { id, running, ran } = await runBlocking('payment_send', { to: 'acme', amount: 300 });
    await decideWhenOpen(id, 'approve');
    await running;
    expect(ran()).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 300 } }]);
  });

  it('runs the args a reviewer edited', async () => {
    const { id, running, ran } = await runBlocking('payment_send', { to: 'acme', amount: 3000 });
    await decideWhenOpen(id, 'approve', { args: { to: 'acme', amount: 300 } });
    await running;
    expect(ran()).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 300 } }]);
  });

  it('does not run a call the reviewers deny', async () => {
    const { id, model, running, ran } = await runBlocking('payment_send', { to: 'mallory', amount: 300 });
    await decideWhenOpen(id, 'deny');
    await running;
    expect(ran()).toEqual([]);
    expect(lastToolResults(model.prompts)[0]?.output).toEqual({ type: 'execution-denied', reason: 'Denied by Ana Lima' });
  });

  it('denies a call still undecided when its wait runs out', async () => {
    const { model, running, ran } = await runBlocking('payment_send', { to: 'acme', amount: 301 }, { wait: { timeoutMs: 300 } });
    await running;
    expect(ran()).toEqual([]);
    expect(lastToolResults(model.prompts)[0]?.output.reason).toMatch(/^Not run: no decision on approval apr_/);
  });
});
