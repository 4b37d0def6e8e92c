import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileText, pendingWrite, policy, proxyCommand, registry, sharedFolder, textOf, unique } from './__fixtures__/proxy-world.js';

// Downstream Streamable HTTP (the SDK's own StreamableHTTPClientTransport), upstream the registry's filesystem server.
let controlPlane: LocalControlPlane;
let proxy: ChildProcess;
let url: string;
let root: string;

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy, sweepIntervalSeconds: 0.1 });
  root = sharedFolder();
  const command = proxyCommand(controlPlane, registry.filesystem(root), ['--http', '0', '--hold-seconds', '0.3']);
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
        expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('write_file');
        expect(textOf(await client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'readme.txt') } }))).toBe('hello from the shared drive');
        expect(textOf(await client.callTool({ name: 'move_file', arguments: { source: join(root, 'readme.txt'), destination: join(root, 'b.txt') } }))).toContain('Moving files is not allowed');

        const path = join(root, `${unique(`http-${era}`)}.txt`);
        const write = () => client.callTool({ name: 'write_file', arguments: { path, content: era } });
        const first = await write();
        const request = await pendingWrite(controlPlane, path);
        expect(textOf(first)).toContain(`Awaiting human approval: ${request.id}`);
        // 2025-era HTTP is served statelessly (no initialize reaches the per-request server): the client is not named.
        expect(request.context).toMatchObject({ mcp: { server: 'secure-filesystem-server', client: pin ? `http-agent-${era}` : 'unknown' } });
        expect(fileText(path)).toBeUndefined();
        await controlPlane.decide(request.id, 'ana', 'approve');
        expect(textOf(await write())).toBe(`Successfully wrote to ${path}`);
        expect(fileText(path)).toBe(era);
        rmSync(path);
        expect(textOf(await write())).toContain('already used');
        expect(fileText(path)).toBeUndefined();
      } finally {
        await client.close();
      }
    });
  }

  it('refuses requests from a web page origin (DNS rebinding)', async () => {
    const post = (origin: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', origin },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
    expect((await post('http://evil.example')).status).toBe(403);
    expect((await post('http://localhost')).status).toBe(200); // only the foreign origin was refused
  });
});
