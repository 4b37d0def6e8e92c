import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalControlPlane, type LocalControlPlane } from '../local-control-plane.js';

let controlPlane: LocalControlPlane;
beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: 'version: 1\nrules:\n  - { tool: payment.send, action: escalate }\n' });
});
afterAll(async () => controlPlane.close());

/** One POST through node:http, on the given agent; resolves with the status or the socket error. */
function post(agent: Agent, body: string, headers: Record<string, string> = {}): Promise<{ status: number; connection: string | undefined } | { error: string }> {
  const { port } = new URL(controlPlane.url);
  return new Promise((resolve) => {
    const outgoing = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/approvals',
        method: 'POST',
        agent,
        headers: { authorization: `Bearer ${controlPlane.agentKey}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }));
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    outgoing.end(body);
  });
}

const small = JSON.stringify({ tool: 'payment.send', args: { amount: 1 } });

describe('a body over the limit', () => {
  it('gets a 413 that closes the connection, so the next keep-alive request goes out on a fresh one', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const tooBig = await post(agent, JSON.stringify({ tool: 'payment.send', args: { memo: 'x'.repeat(300_000) } }));
    expect(tooBig).toEqual({ status: 413, connection: 'close' });
    expect(await post(agent, small)).toMatchObject({ status: 201 });
    agent.destroy();
  });

  it('is answered with the 413, not EPIPE, while a client that said Connection: close is still writing 30 MB', async () => {
    const agent = new Agent({ keepAlive: false });
    const huge = JSON.stringify({ tool: 'payment.send', args: { memo: 'x'.repeat(30_000_000) } });
    for (let attempt = 0; attempt < 3; attempt += 1) expect(await post(agent, huge, { connection: 'close' })).toMatchObject({ status: 413 });
    expect(await post(agent, small.replace('"amount":1', '"amount":2'))).toMatchObject({ status: 201 }); // another call: an identical one still pending would be folded (200)
  });
});
