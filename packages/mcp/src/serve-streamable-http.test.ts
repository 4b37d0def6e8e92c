import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingPayment, payee, policy, proxyCommand, textOf } from './__fixtures__/proxy-world.js';

let controlPlane: LocalControlPlane;
let proxy: ChildProcess;
let url: string;
let upstreamCalls: ReturnType<typeof proxyCommand>['upstreamCalls'];

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy, sweepIntervalSeconds: 0.1 });
  const command = proxyCommand(controlPlane, ['--http', '0', '--hold-seconds', '0.3']);
  upstreamCalls = command.upstreamCalls;
  proxy = spawn(command.command, command.args, { cwd: command.cwd, env: command.env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  url = await new Promise<string>((resolve, reject) => {
    proxy.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const listening = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr);
      if (listening?.[1]) resolve(listening[1]);
    });
    proxy.once('exit', (code) => reject(new Error(`proxy exited (${code}): ${stderr}`)));
  });
}, 60_000);

afterAll(async () => {
  if (proxy && proxy.exitCode === null) {
    proxy.kill('SIGTERM');
    await once(proxy, 'exit');
  }
  await controlPlane?.close();
});

async function connect(name: string, pinRevision?: string): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' }, pinRevision ? { versionNegotiation: { mode: { pin: pinRevision } } } : {});
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

describe('signoff-mcp over Streamable HTTP on loopback', () => {
  for (const [era, pin] of [['2025', undefined], ['2026-07-28', '2026-07-28']] as const) {
    it(`guards a ${era}-era client: allow, deny, awaiting approval, and the identical retry runs once approved`, async () => {
      const client = await connect(`http-agent-${era}`, pin);
      try {
        expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('payment_send');
        expect(textOf(await client.callTool({ name: 'balance_get', arguments: {} }))).toBe('balance: 1200');
        expect(textOf(await client.callTool({ name: 'record_delete', arguments: { id: 'r3' } }))).toContain('Deleting records is not allowed');

        const to = payee(`http-${era}`);
        const first = await client.callTool({ name: 'payment_send', arguments: { to, amount: 400 } });
        const request = await pendingPayment(controlPlane, to);
        expect(textOf(first)).toContain(`Awaiting human approval: ${request.id}`);
        // 2025-era HTTP is served statelessly (no initialize reaches the per-request server): the client is not named.
        expect(request.context).toMatchObject({ mcp: { server: 'payments-upstream', client: pin ? `http-agent-${era}` : 'unknown' } });
        await controlPlane.decide(request.id, 'ana', 'approve');
        expect(textOf(await client.callTool({ name: 'payment_send', arguments: { to, amount: 400 } }))).toBe(`sent 400 to ${to}`);
        expect(textOf(await client.callTool({ name: 'payment_send', arguments: { to, amount: 400 } }))).toContain('already used');
        expect(upstreamCalls().filter((call) => call.args.to === to)).toHaveLength(1);
      } finally {
        await client.close();
      }
    });
  }

  it('refuses requests from a web page origin (DNS rebinding)', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', origin: 'http://evil.example' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(response.status).toBe(403);
    expect(upstreamCalls().length).toBeGreaterThan(0); // the proxy is up; only this request was refused
  });
});
