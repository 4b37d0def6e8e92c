import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, policy, registry, startProxy, textOf, upstreamPids } from './__fixtures__/proxy-world.js';

// The real everything server killed with SIGKILL under the real signoff-mcp bin.
let controlPlane: LocalControlPlane;

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy });
}, 60_000);

afterAll(async () => {
  await controlPlane?.close();
});

describe('signoff-mcp when the upstream server crashes', () => {
  it('answers the in-flight call with an error naming the crash, restarts the server for later calls, and exits once the restarts are used up', async () => {
    const proxy = await startProxy(controlPlane, registry.everything(), ['--restart', '1']);
    try {
      expect(textOf(await proxy.client.callTool({ name: 'echo', arguments: { message: 'before' } }))).toBe('Echo: before');
      const [first] = upstreamPids(proxy.stderr());
      expect(first).toBeGreaterThan(0);

      // A long call that is provably running upstream (its first progress arrived) when the server dies.
      let progressed = false;
      const inFlight = proxy.client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 240 } },
        { onprogress: () => void (progressed = true), resetTimeoutOnProgress: true },
      );
      await eventually(() => progressed || undefined);
      process.kill(first as number, 'SIGKILL');
      const crashed = await inFlight;
      expect(crashed.isError).toBe(true);
      expect(textOf(crashed)).toMatch(/crashed while running trigger-long-running-operation .*may have partly run/);

      // A call made while the server restarts waits for it, then runs on the new process.
      expect(textOf(await proxy.client.callTool({ name: 'echo', arguments: { message: 'after' } }))).toBe('Echo: after');
      const pids = upstreamPids(proxy.stderr());
      expect(pids).toHaveLength(2);
      expect(pids[1]).not.toBe(first);
      expect(proxy.stderr()).toContain('restart 1 of 1');

      // The second crash uses up --restart 1: the proxy says why and exits, so the client is not left hanging.
      process.kill(pids[1] as number, 'SIGKILL');
      await proxy.closed;
      expect(proxy.stderr()).toMatch(/exited again after 1 restart; closing/);
    } finally {
      await proxy.close();
    }
  });

  it('with --restart 0, reports the crash and exits', async () => {
    const proxy = await startProxy(controlPlane, registry.everything(), ['--restart', '0']);
    const [pid] = upstreamPids(proxy.stderr());
    process.kill(pid as number, 'SIGKILL');
    await proxy.closed;
    expect(proxy.stderr()).toContain('exited; closing');
  });
});
