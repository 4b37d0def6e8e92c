import type { LookupAddress } from 'node:dns';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook, type ApprovalRequest } from '@signoff/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestOutboxMessage } from '../store/outbox-message.js';
import { createCallbackPolicy } from './callback-policy.js';
import { createWebhookChannel } from './webhook-channel.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
/** A resolver that answers 127.0.0.1 for every name: a DNS rebinding attacker's. */
const rebinding = ((_host: string, _options: unknown, callback: (error: null, addresses: LookupAddress[]) => void) =>
  callback(null, [{ address: '127.0.0.1', family: 4 }])) as unknown as typeof import('node:dns').lookup;

let port = 0;
const received: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
const receiver = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    received.push({ url: request.url ?? '', headers: request.headers as Record<string, string>, body });
    if (request.url === '/redirect') response.writeHead(302, { location: `http://127.0.0.1:${port}/admin/reset` }).end();
    else response.writeHead(204).end();
  });
});
beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
  port = (receiver.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

const request = { id: 'apr_callbacktest0001', status: 'approved' } as unknown as ApprovalRequest;
const message = (target: string): RequestOutboxMessage => ({ id: `msg_${received.length}_${target.length}`, channel: 'webhook', topic: 'approval.resolved', requestId: request.id, target, attempts: 0, createdAt: new Date().toISOString(), lastError: undefined });

describe('callback deliveries under the callback policy (SSRF)', () => {
  it('refuses, for good, a host name that resolves to an internal address at connect time (DNS rebinding)', async () => {
    const channel = createWebhookChannel({ secret, callbacks: createCallbackPolicy({ allow: ['http://hooks.example.test:*'], resolve: rebinding }) });
    const before = received.length;
    await expect(channel.deliver(message(`http://hooks.example.test:${port}/hook`), request)).rejects.toMatchObject({ permanent: true, message: expect.stringContaining('resolves to 127.0.0.1') });
    expect(received.length).toBe(before);
  });

  it('delivers, signed, when the operator listed that internal address', async () => {
    const channel = createWebhookChannel({ secret, callbacks: createCallbackPolicy({ allow: ['http://hooks.example.test:*'], allowAddresses: ['127.0.0.1/32'], resolve: rebinding }) });
    await channel.deliver(message(`http://hooks.example.test:${port}/hook`), request);
    const delivery = received.at(-1)!;
    expect(delivery.url).toBe('/hook');
    expect(verifyWebhook(secret, delivery.headers, delivery.body)).toMatchObject({ type: 'approval.resolved', data: { id: request.id } });
  });

  it('refuses URLs off the allow-list and internal literals, without connecting', async () => {
    const channel = createWebhookChannel({ secret, callbacks: createCallbackPolicy({ allow: ['http://*.example.test:*'] }) });
    const before = received.length;
    for (const target of [`http://127.0.0.1:${port}/admin/reset`, 'http://169.254.169.254/latest/meta-data/', `http://[::ffff:127.0.0.1]:${port}/x`]) {
      await expect(channel.deliver(message(target), request)).rejects.toMatchObject({ permanent: true });
    }
    expect(received.length).toBe(before);
  });

  it('does not follow redirects', async () => {
    const channel = createWebhookChannel({ secret, callbacks: createCallbackPolicy({ allow: ['http://127.0.0.1:*'] }) });
    const before = received.length;
    await expect(channel.deliver(message(`http://127.0.0.1:${port}/redirect`), request)).rejects.toThrow(/HTTP 302/);
    expect(received.slice(before).map((entry) => entry.url)).toEqual(['/redirect']);
  });

  it('delivers no callback at all without a callback policy, while configured endpoints still get every event', async () => {
    const endpoint = `http://127.0.0.1:${port}/endpoint`;
    const channel = createWebhookChannel({ secret, endpoints: [endpoint] });
    await expect(channel.deliver(message(`http://127.0.0.1:${port}/callback`), request)).rejects.toMatchObject({ permanent: true });
    await channel.deliver(message(endpoint), request);
    expect(received.at(-1)?.url).toBe('/endpoint');
  });
});
