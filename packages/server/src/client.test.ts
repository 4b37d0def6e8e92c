import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { createSignoff } from '@signoff/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killHard, spawnServer } from './__fixtures__/server-process.js';
import { client, startTestServer, TEST_KEYS } from './test-server.js';

const policyFile = fileURLToPath(new URL('./__fixtures__/policy.yaml', import.meta.url));
let server: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.cleanup());

const signoffFor = (url: string, extra: object = {}) =>
  createSignoff({ policy: policyFile, controlPlane: { url, apiKey: TEST_KEYS.agent, retryDelayMs: 20, ...extra } });

/** Approves the newest pending request (for this amount, when given) as ana and sam once it shows up. */
async function approveWhenPending(url: string, edit?: unknown, amount?: number) {
  const reviewer = client(url, TEST_KEYS.ana);
  for (;;) {
    const { body } = await reviewer('GET', '/v1/approvals?actionable=true');
    const request = (body.data as Array<{ id: string; args: { amount?: number } }> | undefined)?.find((entry) => amount === undefined || entry.args.amount === amount);
    if (request) {
      await reviewer('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve', ...(edit ? { args: edit } : {}) });
      await client(url, TEST_KEYS.sam)('POST', `/v1/approvals/${request.id}/decision`, { verdict: 'approve' });
      return request.id as string;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('createSignoff against a real control plane', () => {
  it('allows and denies locally without a round trip', async () => {
    const signoff = signoffFor('http://127.0.0.1:9'); // nothing listens there
    expect(await signoff.authorize('payment.send', { to: 'acme', amount: 5 })).toMatchObject({ granted: true });
    expect(await signoff.authorize('payment.send', { to: 'x.eth', amount: 5 })).toMatchObject({ granted: false, decision: { ruleId: 'no-crypto' } });
  });

  it('waits for the quorum and runs the approved — possibly edited — args', async () => {
    const signoff = signoffFor(server.url);
    const [authorization] = await Promise.all([
      signoff.authorize('payment.send', { to: 'acme', amount: 900 }, { idempotencyKey: 'run-1:call-1' }),
      approveWhenPending(server.url, { to: 'acme', amount: 450 }),
    ]);
    expect(authorization).toMatchObject({ granted: true, args: { to: 'acme', amount: 450 }, approval: { status: 'executed' }, execution: { args: { to: 'acme', amount: 450 } } });
  });

  it('runs one approval once: a replayed authorize (same key) is refused with ALREADY_EXECUTED', async () => {
    const signoff = signoffFor(server.url);
    const call = () => signoff.authorize('payment.send', { to: 'acme', amount: 310 }, { idempotencyKey: 'once:1' });
    const [first] = await Promise.all([call(), approveWhenPending(server.url, undefined, 310)]);
    expect(first).toMatchObject({ granted: true, approval: { status: 'executed' } });
    const replays = await Promise.all([call(), call()]);
    for (const replay of replays) expect(replay).toMatchObject({ granted: false, errorCode: 'ALREADY_EXECUTED', reason: expect.stringContaining('already used') });
    await signoff.reportOutcome(first.execution!, 'succeeded', { detail: 'pay_1' });
    expect((await signoff.getApproval(first.approval!.id)).execution).toMatchObject({ outcome: 'succeeded' });
  });

  it('two processes resuming the same call at once: exactly one is granted', async () => {
    const [one, two] = [signoffFor(server.url), signoffFor(server.url)];
    const args = { to: 'acme', amount: 320 };
    const [first, second] = await Promise.all([
      one.authorize('payment.send', args, { idempotencyKey: 'race:1' }),
      two.authorize('payment.send', args, { idempotencyKey: 'race:1' }),
      approveWhenPending(server.url, undefined, 320),
    ]);
    expect([first, second].filter((authorization) => authorization.granted)).toHaveLength(1);
    expect([first, second].find((authorization) => !authorization.granted)).toMatchObject({ errorCode: 'ALREADY_EXECUTED' });
  });

  it('retries a claim whose answer was lost with the same attempt id: recognised, not a replay', async () => {
    let dropped = 0;
    const lossy: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      // The server claimed it, but the answer never arrives: the client must retry and still be granted.
      if (String(input).endsWith('/execution') && dropped === 0) {
        dropped += 1;
        await response.arrayBuffer();
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      return response;
    };
    const signoff = signoffFor(server.url, { fetch: lossy });
    const [authorization] = await Promise.all([
      signoff.authorize('payment.send', { to: 'acme', amount: 330 }, { idempotencyKey: 'lossy:1' }),
      approveWhenPending(server.url, undefined, 330),
    ]);
    expect(dropped).toBe(1);
    expect(authorization).toMatchObject({ granted: true, approval: { status: 'executed' } });
  });

  it('never runs args an idempotency replay did not approve', async () => {
    const signoff = signoffFor(server.url);
    await Promise.all([signoff.authorize('payment.send', { to: 'acme', amount: 300 }, { idempotencyKey: 'replay:1' }), approveWhenPending(server.url)]);
    const replay = await signoff.authorize('payment.send', { to: 'mallory', amount: 9_000 }, { idempotencyKey: 'replay:1' });
    expect(replay).toMatchObject({ granted: false, reason: expect.stringContaining('409 IDEMPOTENCY_CONFLICT') });
  });

  it('finds its own request by idempotency key without creating one', async () => {
    const signoff = signoffFor(server.url);
    expect(await signoff.findApproval('never-used:1')).toBeUndefined();
    const created = await signoff.requestApproval(signoff.guard('payment.send', { to: 'acme', amount: 321 }), { idempotencyKey: 'find:1' });
    expect(await signoff.findApproval('find:1')).toMatchObject({ id: created.id });
    const other = createSignoff({ policy: policyFile, controlPlane: { url: server.url, apiKey: TEST_KEYS.ownedAgent } });
    expect(await other.findApproval('find:1')).toBeUndefined(); // another agent's key
    await client(server.url, TEST_KEYS.ana)('POST', `/v1/approvals/${created.id}/decision`, { verdict: 'deny' }); // leave nothing pending for the next test
  });

  it('accepts the approval guide call shape and waits like it', async () => {
    const signoff = signoffFor(server.url);
    const decision = signoff.guard('payment.send', { to: 'vendor@example.com', amount: 500 });
    const [approval] = await Promise.all([
      signoff.requestApproval({ requestId: decision.receipt.id, tool: 'payment.send', args: decision.args, reason: decision.reason, reviewers: ['finance-team'] }),
      approveWhenPending(server.url),
    ]);
    expect(approval).toMatchObject({ granted: true, notify: ['finance-team'], requirements: { requiredApprovals: 2 } });
  });

  it('fails closed when the control plane is unreachable, and when no decision comes in time', async () => {
    const unreachable = await signoffFor('http://127.0.0.1:9', { maxAttempts: 2 }).authorize('payment.send', { to: 'acme', amount: 500 });
    expect(unreachable).toMatchObject({ granted: false, errorCode: 'CONTROL_PLANE_UNAVAILABLE' });
    expect(unreachable.reason).toMatch(/^Not run \(fail-closed\): control plane at http:\/\/127\.0\.0\.1:9 unavailable/);
    const slow = await signoffFor(server.url).authorize('payment.send', { to: 'acme', amount: 501 }, { timeoutMs: 1_500 });
    expect(slow).toMatchObject({ granted: false, errorCode: 'APPROVAL_EXPIRED' });
  });

  it('falls back to polling when something in between breaks long-polls', async () => {
    // A proxy that answers 504 to every long-poll, like a load balancer with a short idle timeout.
    const proxy = createHttpServer(async (request, response) => {
      if (request.url?.includes('/wait')) return void response.writeHead(504).end('gateway timeout');
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const upstream = await fetch(`${server.url}${request.url}`, {
        method: request.method,
        headers: { authorization: String(request.headers.authorization), 'content-type': 'application/json' },
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      });
      response.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    const signoff = signoffFor(url, { maxAttempts: 2 });
    const [authorization] = await Promise.all([signoff.authorize('payment.send', { to: 'acme', amount: 654 }, { idempotencyKey: 'proxy:1' }), approveWhenPending(server.url, undefined, 654)]);
    expect(authorization).toMatchObject({ granted: true, approval: { status: 'executed' } });
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('is refused (not granted) when the server policy expires the request', async () => {
    const result = await signoffFor(server.url).authorize('deploy.run', { service: 'api' });
    expect(result).toMatchObject({ granted: false, approval: { status: 'expired' } });
    expect(result.reason).toContain('timeout_action deny');
  });
});

describe('kill -9 of the control plane mid-wait', () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill('SIGKILL'));

  it('loses nothing: after a restart the waiting client still gets its answer', async () => {
    const port = await freePort();
    const config = join(server.directory, 'crash.yaml');
    writeFileSync(config, readFileSync(join(server.directory, 'signoff.yaml'), 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`).replace('signoff.db', 'crash.db'));
    const url = `http://127.0.0.1:${port}`;
    child = (await spawnServer(config)).child;
    const signoff = signoffFor(url, { maxAttempts: 30, retryDelayMs: 100 });
    const waiting = signoff.authorize('payment.send', { to: 'acme', amount: 777 }, { idempotencyKey: 'crash:1' });
    const reviewer = client(url, TEST_KEYS.ana);
    let pending: { id: string } | undefined;
    while (!pending) pending = (await reviewer('GET', '/v1/approvals?actionable=true')).body.data?.[0];
    await reviewer('POST', `/v1/approvals/${pending.id}/decision`, { verdict: 'approve' });

    await killHard(child);
    child = (await spawnServer(config)).child;

    expect((await reviewer('GET', `/v1/approvals/${pending.id}`)).body).toMatchObject({ status: 'pending', decisions: [{ reviewer: 'ana' }] });
    await client(url, TEST_KEYS.sam)('POST', `/v1/approvals/${pending.id}/decision`, { verdict: 'approve' });
    expect(await waiting).toMatchObject({ granted: true, approval: { id: pending.id, status: 'executed' } });
  }, 60_000);
});
