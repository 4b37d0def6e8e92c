import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, TEST_KEYS } from '../test-server.js';

// The long-poll route is answered before Hono by createWaitListener in a real server: these run
// against startServer over HTTP, so they cover that path and its hand-over to the Hono app.
describe('GET /v1/approvals/:id/wait on a running server', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.cleanup();
  });

  // Distinct args: identical pending calls would be one request (de-duplication).
  let created = 0;
  const create = async (): Promise<string> => {
    created += 1;
    const { status, body } = await client(server.url, TEST_KEYS.agent)('POST', '/v1/approvals', { tool: 'payment.send', args: { to: 'acme', amount: 500 + created } });
    expect(status).toBe(201);
    return body.id as string;
  };
  const waitingClients = async (): Promise<number> => Number(/signoff_waiting_clients (\d+)/.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]);
  const untilWaiting = async (count: number): Promise<void> => {
    while ((await waitingClients()) < count) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  it('answers as soon as the quorum resolves the request, and counts the waiting client meanwhile', async () => {
    const id = await create();
    const waiting = client(server.url, TEST_KEYS.agent)('GET', `/v1/approvals/${id}/wait?timeout=30`);
    await untilWaiting(1);
    await client(server.url, TEST_KEYS.ana)('POST', `/v1/approvals/${id}/decision`, { verdict: 'approve' });
    await client(server.url, TEST_KEYS.sam)('POST', `/v1/approvals/${id}/decision`, { verdict: 'approve' });
    const { status, headers, body } = await waiting;
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(body).toMatchObject({ id, status: 'approved' });
    expect(await waitingClients()).toBe(0);
  });

  it('returns the pending request at the timeout, to reviewers too', async () => {
    const id = await create();
    const { status, body } = await client(server.url, TEST_KEYS.dev)('GET', `/v1/approvals/${id}/wait?timeout=0`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ id, status: 'pending' });
  });

  it('refuses like every route: bad key, bad query, someone else’s or an unknown request; refusals are audited', async () => {
    const id = await create();
    const before = (await server.store.readAudit()).filter((entry) => entry.type === 'access.refused').length;
    expect(await client(server.url)('GET', `/v1/approvals/${id}/wait`)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    expect(await client(server.url, 'sk_not_a_key_of_this_server')('GET', `/v1/approvals/${id}/wait`)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    expect(await client(server.url, TEST_KEYS.agent)('GET', `/v1/approvals/${id}/wait?timeout=61`)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST', field: 'timeout' } } });
    expect(await client(server.url, TEST_KEYS.agent)('GET', `/v1/approvals/${id}/wait?timeout=1&x=1`)).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
    expect(await client(server.url, TEST_KEYS.ownedAgent)('GET', `/v1/approvals/${id}/wait?timeout=1`)).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(await client(server.url, TEST_KEYS.agent)('GET', '/v1/approvals/apr_0000000000000000/wait?timeout=1')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const after = (await server.store.readAudit()).filter((entry) => entry.type === 'access.refused').length;
    expect(after - before).toBe(4); // two unauthenticated, two not found
  });
});

describe('GET /v1/approvals/:id/wait while the server stops', () => {
  it('answers a waiting client 503 with Retry-After, so it retries elsewhere', async () => {
    const server = await startTestServer();
    try {
      const { body } = await client(server.url, TEST_KEYS.agent)('POST', '/v1/approvals', { tool: 'payment.send', args: { to: 'acme', amount: 500 } });
      const waiting = client(server.url, TEST_KEYS.agent)('GET', `/v1/approvals/${body.id}/wait?timeout=30`);
      while (!/signoff_waiting_clients 1/.test(await (await fetch(`${server.url}/metrics`)).text())) await new Promise((resolve) => setTimeout(resolve, 10));
      const closed = server.close();
      const response = await waiting;
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.body).toMatchObject({ error: { code: 'SHUTTING_DOWN' } });
      await closed;
    } finally {
      await server.cleanup();
    }
  });
});
