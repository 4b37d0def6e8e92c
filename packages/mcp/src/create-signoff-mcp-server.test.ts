import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingPayment, payee, policy, startProxy, textOf, type RunningProxy } from './__fixtures__/proxy-world.js';

let controlPlane: LocalControlPlane;
/** Holds an escalated call up to 15 s. */
let holding: RunningProxy;
/** Answers "awaiting approval" after 0.3 s. */
let quick: RunningProxy;

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy, sweepIntervalSeconds: 0.1 });
  [holding, quick] = await Promise.all([
    startProxy(controlPlane, ['--hold-seconds', '15']),
    startProxy(controlPlane, ['--hold-seconds', '0.3', '--hide-denied-tools']),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([holding?.close(), quick?.close()]);
  await controlPlane?.close();
});

describe('signoff-mcp in front of a real MCP server', () => {
  it('lists the upstream tools, and hides the always-denied ones when asked', async () => {
    const all = (await holding.client.listTools()).tools.map((tool) => tool.name).sort();
    expect(all).toEqual(['balance_get', 'payment_fail', 'payment_send', 'record_delete', 'server_crash']);
    const visible = (await quick.client.listTools()).tools.map((tool) => tool.name).sort();
    expect(visible).toEqual(['balance_get', 'payment_fail', 'payment_send', 'server_crash']);
  });

  it('passes the upstream resources and prompts through', async () => {
    expect((await holding.client.listResources()).resources.map((resource) => resource.uri)).toEqual(['payments://limits']);
    expect((await holding.client.readResource({ uri: 'payments://limits' })).contents).toEqual([{ uri: 'payments://limits', text: 'daily limit: 5000' }]);
    expect((await holding.client.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(['pay-invoice']);
    expect((await holding.client.getPrompt({ name: 'pay-invoice', arguments: { invoice: 'inv-7' } })).messages[0]?.content).toEqual({ type: 'text', text: 'Pay invoice inv-7' });
  });

  it('forwards an allowed call and returns the upstream result unchanged', async () => {
    const result = await holding.client.callTool({ name: 'balance_get', arguments: {} });
    expect(textOf(result)).toBe('balance: 1200');
    expect(result.isError).toBeFalsy();
    expect(holding.upstreamCalls()).toContainEqual({ tool: 'balance_get', args: {} });
  });

  it('refuses a denied call with the reason, and the upstream never sees it', async () => {
    const result = await holding.client.callTool({ name: 'record_delete', arguments: { id: 'r1' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('Deleting records is not allowed');
    const huge = await holding.client.callTool({ name: 'payment_send', arguments: { to: 'x', amount: 50_000 } });
    expect(textOf(huge)).toContain('never made by an agent');
    expect(holding.upstreamCalls().filter((call) => call.tool !== 'balance_get')).toEqual([]);
  });

  it('passes upstream error results through unchanged', async () => {
    const result = await holding.client.callTool({ name: 'payment_fail', arguments: { amount: 5 } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('bank refused the payment');
  });

  it('holds an escalated call with progress and runs it once approved inside the hold', async () => {
    const to = payee('hold');
    const progress: Array<{ progress: number; message?: string }> = [];
    const call = holding.client.callTool(
      { name: 'payment_send', arguments: { to, amount: 500 } },
      { onprogress: (update) => progress.push(update), resetTimeoutOnProgress: true },
    );
    const request = await pendingPayment(controlPlane, to);
    expect(request.context).toMatchObject({ mcp: { server: 'payments-upstream', client: 'test-agent' } });
    expect(holding.upstreamCalls().filter((run) => run.args.to === to)).toEqual([]);
    await controlPlane.decide(request.id, 'ana', 'approve');
    const result = await call;
    expect(textOf(result)).toBe(`sent 500 to ${to}`);
    expect(progress[0]?.message).toContain(request.id);
    // The upstream's own progress ('bank accepted') is relayed too, shifted past the hold's updates; the
    // SDK client may drop a progress that lands in the same read as the result, so only the order is asserted.
    expect(progress.map((update) => update.progress)).toEqual([...progress.map((update) => update.progress)].sort((a, b) => a - b));
    expect(new Set(progress.map((update) => update.progress)).size).toBe(progress.length);
    expect(holding.upstreamCalls().filter((run) => run.args.to === to)).toEqual([{ tool: 'payment_send', args: { to, amount: 500 } }]);
  });

  it('answers "awaiting approval" after the hold; the same call retried runs once approved, and never twice', async () => {
    const to = payee('retry');
    const args = { to, amount: 300 };
    const first = await quick.client.callTool({ name: 'payment_send', arguments: args });
    const request = await pendingPayment(controlPlane, to);
    expect(first.isError).toBe(true);
    expect(textOf(first)).toContain(`Awaiting human approval: ${request.id}`);
    expect(textOf(first)).toContain('same arguments');
    const stillPending = await quick.client.callTool({ name: 'payment_send', arguments: args });
    expect(textOf(stillPending)).toContain(request.id);
    expect((await controlPlane.actionable('ana')).filter((candidate) => (candidate.args as { to: string }).to === to)).toHaveLength(1);

    await controlPlane.decide(request.id, 'ana', 'approve');
    const retried = await quick.client.callTool({ name: 'payment_send', arguments: args });
    expect(textOf(retried)).toBe(`sent 300 to ${to}`);
    const again = await quick.client.callTool({ name: 'payment_send', arguments: args });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toContain('already used');
    expect(quick.upstreamCalls().filter((run) => run.args.to === to)).toHaveLength(1);
  });

  it('forwards the reviewer-edited args instead of the model’s', async () => {
    const to = payee('edit');
    await quick.client.callTool({ name: 'payment_send', arguments: { to, amount: 900 } });
    const request = await pendingPayment(controlPlane, to);
    await controlPlane.decide(request.id, 'ana', 'approve', { args: { to, amount: 450 }, comment: 'half now' });
    const retried = await quick.client.callTool({ name: 'payment_send', arguments: { to, amount: 900 } });
    expect(textOf(retried)).toBe(`sent 450 to ${to}`);
    expect(quick.upstreamCalls().filter((run) => run.args.to === to)).toEqual([{ tool: 'payment_send', args: { to, amount: 450 } }]);
  });

  it('never runs a denied call, held or retried', async () => {
    const to = payee('deny');
    const call = holding.client.callTool({ name: 'payment_send', arguments: { to, amount: 700 } });
    const request = await pendingPayment(controlPlane, to);
    await controlPlane.decide(request.id, 'ana', 'deny', { comment: 'not this vendor' });
    const held = await call;
    expect(held.isError).toBe(true);
    expect(textOf(held)).toMatch(/^Not run: .*denied/i);
    const retried = await holding.client.callTool({ name: 'payment_send', arguments: { to, amount: 700 } });
    expect(textOf(retried)).toMatch(/^Not run: /);
    expect(holding.upstreamCalls().filter((run) => run.args.to === 'deny')).toEqual([]);
    expect(holding.upstreamCalls().filter((run) => run.args.to === to)).toEqual([]);
  });

  it('never runs an expired call: a client that never retries leaves nothing run, and a late retry is refused', async () => {
    const first = await quick.client.callTool({ name: 'payment_send', arguments: { to: 'quick-expiry', amount: 200 } });
    expect(textOf(first)).toContain('Awaiting human approval');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const late = await quick.client.callTool({ name: 'payment_send', arguments: { to: 'quick-expiry', amount: 200 } });
    expect(late.isError).toBe(true);
    expect(textOf(late)).toMatch(/^Not run: .*(expired|timed out|no decision)/i);
    expect(quick.upstreamCalls().filter((run) => run.args.to === 'quick-expiry')).toEqual([]);
  });
});

describe('signoff-mcp with the control plane down', () => {
  it('does not forward an escalated call (fail-closed), while allowed calls still run', async () => {
    const stopped = await startLocalControlPlane({ policy });
    const { url, agentKey } = stopped;
    await stopped.close();
    const proxy = await startProxy({ url, agentKey }, ['--hold-seconds', '1']);
    try {
      const result = await proxy.client.callTool({ name: 'payment_send', arguments: { to: 'down', amount: 500 } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('Not run (fail-closed, CONTROL_PLANE_UNAVAILABLE)');
      const allowed = await proxy.client.callTool({ name: 'payment_send', arguments: { to: 'down', amount: 20 } });
      expect(textOf(allowed)).toBe('sent 20 to down');
      expect(proxy.upstreamCalls()).toEqual([{ tool: 'payment_send', args: { to: 'down', amount: 20 } }]);
    } finally {
      await proxy.close();
    }
  });
});

describe('signoff-mcp when the upstream server dies', () => {
  it('reports it and exits, so the client is not left hanging', async () => {
    const proxy = await startProxy(controlPlane, ['--hold-seconds', '1']);
    const call = proxy.client.callTool({ name: 'server_crash', arguments: {} }).then(
      () => 'answered',
      () => 'failed',
    );
    await proxy.closed;
    expect(await call).toBe('failed');
    expect(proxy.stderr()).toContain('the upstream server');
    expect(proxy.stderr()).toContain('exited; closing');
  });
});

describe('signoff-mcp with a client of the 2026-07-28 (stateless) revision', () => {
  it('guards the same way: allow, deny, awaiting approval, and the identical retry after approval runs once', async () => {
    const proxy = await startProxy(controlPlane, ['--hold-seconds', '0.3'], '2026-07-28');
    try {
      expect(proxy.client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect(textOf(await proxy.client.callTool({ name: 'balance_get', arguments: {} }))).toBe('balance: 1200');
      expect(textOf(await proxy.client.callTool({ name: 'record_delete', arguments: { id: 'r2' } }))).toContain('Deleting records is not allowed');

      const to = payee('modern');
      const first = await proxy.client.callTool({ name: 'payment_send', arguments: { to, amount: 250 } });
      const request = await pendingPayment(controlPlane, to);
      expect(textOf(first)).toContain(`Awaiting human approval: ${request.id}`);
      expect(request.context).toMatchObject({ mcp: { server: 'payments-upstream', client: 'test-agent' } });
      await controlPlane.decide(request.id, 'ana', 'approve');
      expect(textOf(await proxy.client.callTool({ name: 'payment_send', arguments: { to, amount: 250 } }))).toBe(`sent 250 to ${to}`);
      expect(textOf(await proxy.client.callTool({ name: 'payment_send', arguments: { to, amount: 250 } }))).toContain('already used');
      expect(proxy.upstreamCalls().map((call) => call.tool)).toEqual(['balance_get', 'payment_send']);
    } finally {
      await proxy.close();
    }
  });
});
