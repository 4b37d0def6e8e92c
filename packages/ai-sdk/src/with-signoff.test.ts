import { generateText, stepCountIs } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callId, connect, currentRequest, lastToolResults, pendingRequest, startPaymentsWorld, type PaymentsWorld } from './__fixtures__/payments.js';
import { scriptedModel } from './testing/index.js';
import { signoffToolApproval } from './signoff-tool-approval.js';
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

describe('withSignoff — an approval runs its call once', () => {
  it('two blocking runs of the same call (same key) wait for one approval and run it once', async () => {
    const id = callId('twice');
    const runs = [0, 1].map(() => {
      const model = scriptedModel([{ toolCalls: [{ id, name: 'payment_send', input: { to: 'acme', amount: 310 } }] }, { text: 'Finished.' }]);
      return { model, running: generateText({ model, tools: withSignoff(world.tools, connect(world)), prompt: 'Go', stopWhen: stepCountIs(5) }) };
    });
    const before = world.executed.length;
    const request = await decideWhenOpen(id, 'approve');
    await Promise.all(runs.map(({ running }) => running));
    expect(world.executed.slice(before)).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 310 } }]);
    const outputs = runs.map(({ model }) => lastToolResults(model.prompts)[0]!.output);
    expect(outputs).toContainEqual({ type: 'json', value: { ok: true, tool: 'payment_send' } });
    expect(outputs).toContainEqual({ type: 'execution-denied', reason: expect.stringMatching(/already used at/) });
    expect(await currentRequest(world, request.id)).toMatchObject({ status: 'executed', execution: { outcome: 'succeeded' } });
  });

  it('runs the claimed (edited) args when the input already is the reviewer-edited args', async () => {
    const id = callId('edited-input');
    const paused = scriptedModel([{ toolCalls: [{ id, name: 'payment_send', input: { to: 'acme', amount: 4000 } }] }]);
    await generateText({ model: paused, tools: world.tools, prompt: 'Go', toolApproval: signoffToolApproval(world.signoff) });
    await world.controlPlane.decide((await pendingRequest(world, id)).id, 'ana', 'approve', { args: { to: 'acme', amount: 400 } });
    const tools = withSignoff(world.tools, world.signoff, { wait: false });
    const before = world.executed.length;
    const call = () => tools.payment_send.execute!({ to: 'acme', amount: 400 }, { toolCallId: id, messages: [], context: undefined as never });
    expect(await call()).toEqual({ ok: true, tool: 'payment_send' });
    expect(await call()).toMatchObject({ type: 'execution-denied', deniedBy: 'signoff', reason: expect.stringMatching(/already used at/) });
    expect(world.executed.slice(before)).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 400 } }]);
  });

  it('a lost outcome report does not fail the call', async () => {
    const id = callId('report-lost');
    const noReports: typeof fetch = async (input, init) => (String(input).endsWith('/execution/outcome') ? new Response('{"error":{"code":"X","message":"down"}}', { status: 503 }) : fetch(input, init));
    const signoff = connect(world, noReports);
    const model = scriptedModel([{ toolCalls: [{ id, name: 'payment_send', input: { to: 'acme', amount: 320 } }] }, { text: 'Finished.' }]);
    const before = world.executed.length;
    const running = generateText({ model, tools: withSignoff(world.tools, signoff), prompt: 'Go', stopWhen: stepCountIs(5) });
    const request = await decideWhenOpen(id, 'approve');
    expect((await running).text).toBe('Finished.');
    expect(world.executed.slice(before)).toHaveLength(1);
    const used = await currentRequest(world, request.id);
    expect(used.status).toBe('executed');
    expect(used.execution?.outcome).toBeUndefined();
  });
});

describe('withSignoff — the tool is the last gate (recommended setup)', () => {
  it('runs allowed calls without any control-plane traffic', async () => {
    const requests: string[] = [];
    const counting: typeof fetch = async (input, init) => {
      requests.push(String(input));
      return fetch(input, init);
    };
    const signoff = connect(world, counting);
    const model = scriptedModel([
      { toolCalls: [{ id: callId('balance'), name: 'balance_get', input: {} }, { id: callId('small'), name: 'payment_send', input: { to: 'acme', amount: 40 } }] },
      { text: 'Finished.' },
    ]);
    const before = world.executed.length;
    await generateText({ model, tools: withSignoff(world.tools, signoff, { wait: false }), toolApproval: signoffToolApproval(signoff), prompt: 'Go', stopWhen: stepCountIs(5) });
    expect(world.executed.slice(before)).toEqual([
      { tool: 'balance_get', input: {} },
      { tool: 'payment_send', input: { to: 'acme', amount: 40 } },
    ]);
    expect(requests).toEqual([]);
  });

  it('with a hook that approves everything, runs nothing denied or unapproved, then the approved call once', async () => {
    const escalated = callId('escalated');
    const denied = callId('denied');
    const calls = { toolCalls: [{ id: escalated, name: 'payment_send', input: { to: 'acme', amount: 1250 } }, { id: denied, name: 'payment_send', input: { to: 'acme', amount: 20000 } }] };
    const run = async () => {
      const model = scriptedModel([calls, { text: 'Finished.' }]);
      await generateText({ model, tools: withSignoff(world.tools, world.signoff, { wait: false }), toolApproval: () => 'approved', prompt: 'Go', stopWhen: stepCountIs(5) });
      return new Map(lastToolResults(model.prompts).map((part) => [part.toolCallId, part.output]));
    };
    const before = world.executed.length;
    const first = await run();
    expect(world.executed.slice(before)).toEqual([]);
    const request = await pendingRequest(world, escalated);
    expect(first.get(escalated)).toEqual({ type: 'execution-denied', reason: `Not run: approval ${request.id} is still pending on the control plane` });
    expect(first.get(denied)).toEqual({ type: 'execution-denied', reason: 'Payments over $10,000 are never made by an agent' });

    await world.controlPlane.decide(request.id, 'ana', 'approve');
    const second = await run();
    expect(world.executed.slice(before)).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 1250 } }]);
    expect(second.get(escalated)).toEqual({ type: 'json', value: { ok: true, tool: 'payment_send' } });
    const third = await run();
    expect(third.get(escalated)?.reason).toMatch(/already used at/);
    expect(third.get(denied)?.reason).toBe('Payments over $10,000 are never made by an agent');
    expect(world.executed.slice(before)).toHaveLength(1);
  });
});

