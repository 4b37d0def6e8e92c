import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry, startProxy, textOf } from './__fixtures__/proxy-world.js';

/** A policy with a history condition: calls the proxy allows on its own are reported for it. */
const HISTORY_POLICY = `
version: 1
default: deny
rules:
  - id: echo-loop
    tool: echo
    action: escalate
    when: { window: { within: 1h }, count: { gte: 50 } }
    reason: "The agent is looping on echo"
  - { id: rest, tool: "**", action: allow }
`;

let controlPlane: LocalControlPlane;
beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: HISTORY_POLICY });
}, 60_000);
afterAll(async () => controlPlane?.close());

describe('signoff-mcp with a policy that looks at more than one call', () => {
  it('reports the calls it allowed on its own, the last ones too when it exits', async () => {
    const proxy = await startProxy(controlPlane, registry.everything(), [], undefined, HISTORY_POLICY);
    try {
      // echo reaches the history rule: the control plane decides and records it. get-sum is allowed locally: reported.
      expect(textOf(await proxy.client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('Echo: hi');
      expect(textOf(await proxy.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }))).toContain('5');
    } finally {
      await proxy.close(); // stdin ends: the proxy stops well inside the 1 s report interval
      await proxy.closed;
    }
    const recorded = await controlPlane.history!.list(0);
    expect(recorded.map(({ tool, action, ruleId }) => [tool, action, ruleId])).toEqual([
      ['echo', 'allow', 'rest'],
      ['get-sum', 'allow', 'rest'],
    ]);
  });
});
