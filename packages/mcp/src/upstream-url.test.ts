import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { once } from 'node:events';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, pendingRequest, policy, spawnUntil, startProxy, textOf, type RunningProxy } from './__fixtures__/proxy-world.js';

// The upstream is reached by URL: the registry's everything server in its Streamable HTTP mode (a
// real process), behind a plain forwarding hop that records the request headers it sees.
let controlPlane: LocalControlPlane;
let everything: Awaited<ReturnType<typeof spawnUntil>>;
let hop: Server;
let proxy: RunningProxy;
const seen: IncomingHttpHeaders[] = [];
/** The JSON-RPC bodies that went upstream. */
const bodies: string[] = [];

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy, sweepIntervalSeconds: 0.1 });
  const port = await freePort();
  everything = await spawnUntil(
    [process.execPath, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'streamableHttp'],
    /listening on port (\d+)/,
    { PORT: String(port) },
  );
  hop = createServer((incoming, outgoing) => {
    seen.push(incoming.headers);
    let body = '';
    incoming.on('data', (chunk: Buffer) => (body += chunk.toString()));
    incoming.on('end', () => body && bodies.push(body));
    const forwarded = request({ host: '127.0.0.1', port, path: incoming.url, method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  hop.listen(0, '127.0.0.1');
  await once(hop, 'listening');
  const url = `http://127.0.0.1:${(hop.address() as { port: number }).port}/mcp`;
  proxy = await startProxy(controlPlane, [], ['--upstream-url', url, '--upstream-header', 'Authorization: Bearer upstream-token', '--hold-seconds', '15']);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  hop?.closeAllConnections();
  await new Promise((resolve) => hop?.close(resolve));
  await everything?.stop();
  await controlPlane?.close();
});

describe('signoff-mcp --upstream-url (a Streamable HTTP upstream)', () => {
  it('lists the upstream tools and sends the configured headers on every upstream request', async () => {
    expect((await proxy.client.listTools()).tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-env']));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((headers) => headers.authorization === 'Bearer upstream-token')).toBe(true);
  });

  it('forwards allowed calls, refuses denied ones, and runs an escalated call once approved', async () => {
    expect(textOf(await proxy.client.callTool({ name: 'echo', arguments: { message: 'over http' } }))).toBe('Echo: over http');
    const denied = await proxy.client.callTool({ name: 'get-env', arguments: {} });
    expect(textOf(denied)).toContain('The environment holds secrets');

    const sums = () => bodies.filter((body) => body.includes('"get-sum"'));
    const call = proxy.client.callTool({ name: 'get-sum', arguments: { a: 150, b: 1 } });
    const request = await pendingRequest(controlPlane, (args) => args.a === 150);
    // Nothing reached the upstream while the call was held.
    expect(sums()).toEqual([]);
    await controlPlane.decide(request.id, 'ana', 'approve');
    expect(textOf(await call)).toContain('151');
    expect(sums()).toHaveLength(1);
  });
});
