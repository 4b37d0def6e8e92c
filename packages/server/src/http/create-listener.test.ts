import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startTestServer, TEST_KEYS } from '../test-server.js';

// A real server answers the plain create on the raw request (createCreateListener) and hands
// everything else to the Hono app, some of it after reading the body: these run over HTTP so they
// cover both paths and the hand-over with the body already read.
describe('POST /v1/approvals on a running server', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let agent: ReturnType<typeof client>;
  beforeAll(async () => {
    server = await startTestServer();
    agent = client(server.url, TEST_KEYS.agent);
  });
  afterAll(async () => server.cleanup());
  let calls = 0;
  const payment = (extra: object = {}) => ({ tool: 'payment.send', args: { to: 'acme', amount: 500, ref: `c${(calls += 1)}` }, ...extra });
  const refusals = async (type: string) => (await server.store.readAudit()).filter((entry) => entry.type === type).length;
  const metric = async (name: string) => Number(new RegExp(`${name} (\\d+)`).exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);

  it('creates, replays an idempotency key, folds an identical pending call, and counts each creation once', async () => {
    const before = await metric('signoff_approval_requests_created_total\\{status="pending"\\}');
    const body = payment({ idempotencyKey: 'run-1:call-1' });
    const created = await agent('POST', '/v1/approvals', body);
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/json/);
    expect(created.body).toMatchObject({ status: 'pending', ruleId: 'big-payments', requester: 'payments-agent' });
    expect(await agent('POST', '/v1/approvals', body)).toMatchObject({ status: 200, body: { id: created.body.id } });
    const twin = await agent('POST', '/v1/approvals', { ...body, idempotencyKey: 'run-2:call-1' });
    expect(twin).toMatchObject({ status: 200, body: { id: created.body.id } });
    expect(twin.headers.get('signoff-deduplicated')).toBe('true');
    expect(await metric('signoff_approval_requests_created_total\\{status="pending"\\}')).toBe(before + 1);
    const entries = (await server.store.readAudit()).filter((entry) => entry.requestId === created.body.id).map((entry) => entry.type);
    expect(entries).toEqual(['request.created', 'request.deduplicated']);
  });

  it('refuses a reused key for another call with 409 naming the field, audited', async () => {
    const before = await refusals('request.refused');
    await agent('POST', '/v1/approvals', payment({ idempotencyKey: 'run-3:call-1' }));
    const conflict = await agent('POST', '/v1/approvals', payment({ idempotencyKey: 'run-3:call-1' }));
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'IDEMPOTENCY_CONFLICT', field: 'idempotencyKey' } } });
    expect((await refusals('request.refused')) - before).toBe(1);
  });

  it.each([
    ['not JSON', '{"tool":', 'INVALID_JSON', undefined],
    ['a body with a byte-order mark', `\ufeff${JSON.stringify({ tool: 'payment.send', args: { amount: 1 }, extra: 1 })}`, 'INVALID_REQUEST', 'extra'],
    ['an unknown field', { tool: 'payment.send', args: {}, approvals: 0 }, 'INVALID_REQUEST', 'approvals'],
    ['a tool that is not a string', { tool: 7, args: {} }, 'INVALID_REQUEST', 'tool'],
    ['a callback without webhooks configured', { tool: 'payment.send', args: {}, callbackUrl: 'https://example.com/hook' }, 'CALLBACKS_DISABLED', 'callbackUrl'],
    ['JSON nested too deep', { tool: 'payment.send', args: JSON.parse(`${'['.repeat(80)}${']'.repeat(80)}`) }, 'INVALID_REQUEST', undefined],
  ])('hands %s to the app after reading the body: its 400 names the field', async (_name, body, code, field) => {
    const answer = await agent('POST', '/v1/approvals', body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.field).toBe(field);
  });

  it('hands refused keys to the app before reading the body: 401 and 403, audited', async () => {
    const before = await refusals('access.refused');
    expect(await client(server.url)('POST', '/v1/approvals', payment())).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    expect(await client(server.url, TEST_KEYS.ana)('POST', '/v1/approvals', payment())).toMatchObject({ status: 403, body: { error: { code: 'AGENT_KEY_REQUIRED' } } });
    expect((await refusals('access.refused')) - before).toBe(2);
  });

  it('hands bodies without a length (chunked) and too large ones to the app', async () => {
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { hostname, port } = new URL(server.url);
      const request = http.request({ hostname, port, path: '/v1/approvals', method: 'POST', headers: { authorization: `Bearer ${TEST_KEYS.agent}`, 'content-type': 'application/json' } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      request.on('error', reject);
      const body = JSON.stringify(payment());
      request.write(body.slice(0, 10));
      request.end(body.slice(10));
    });
    expect(chunked.status).toBe(201);
    expect(JSON.parse(chunked.body)).toMatchObject({ status: 'pending' });
    const large = await agent('POST', '/v1/approvals', payment({ args: { padding: 'x'.repeat(300 * 1024) } }));
    expect(large).toMatchObject({ status: 413, body: { error: { code: 'BODY_TOO_LARGE' } } });
  });

  it('answers an agent over its escalation budget 429 with its code', async () => {
    const eager = client(server.url, TEST_KEYS.budgetedAgent);
    const answers = [];
    for (let index = 0; index < 3; index += 1) answers.push((await eager('POST', '/v1/approvals', payment())).status);
    expect(answers).toEqual([201, 201, 429]);
    expect(await eager('POST', '/v1/approvals', payment())).toMatchObject({ status: 429, body: { error: { code: 'ESCALATION_BUDGET_EXCEEDED' } } });
  });
});
