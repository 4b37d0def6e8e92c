import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createReviewerClient, createSignoff, verifyWebhook } from '@signoff/core';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killHard, spawnServer } from './__fixtures__/server-process.js';
import { verifyAuditChain } from './audit/audit-chain.js';
import { sha256Hex } from './config/server-config.js';
import { openSqliteStore } from './store/sqlite-store.js';

// kill -9 of the control plane in the middle of writes: after a restart on the same SQLite file,
// nothing is lost, nothing is applied twice, and the audit chain still verifies.

const policy = 'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate }\n';
const directory = mkdtempSync(join(tmpdir(), 'signoff-faults-'));
const keys = { agent: `sk_agent_${randomUUID()}`, ana: `sk_ana_${randomUUID()}` };
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

async function startServer(port: number, extra: string[] = []): Promise<ChildProcess> {
  const config = join(directory, 'signoff.yaml');
  writeFileSync(join(directory, 'policy.yaml'), policy);
  writeFileSync(
    config,
    [
      'policy: ./policy.yaml',
      'store: sqlite:./faults.db',
      `listen: 127.0.0.1:${port}`,
      'reviewers: [{ id: ana, name: Ana }]',
      'api_keys:',
      `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(keys.agent)}" }`,
      `  - { name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex(keys.ana)}" }`,
      ...extra,
    ].join('\n'),
  );
  return (await spawnServer(config)).child;
}

async function readAudit() {
  const store = openSqliteStore(join(directory, 'faults.db'));
  try {
    return { audit: await store.readAudit(), requests: await store.listRequests({ limit: 1000 }) };
  } finally {
    await store.close();
  }
}

describe('kill -9 of the control plane', () => {
  it('during creation: every idempotent create lands exactly once after the restart', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    child = await startServer(port);
    const signoff = createSignoff({ policy, controlPlane: { url, apiKey: keys.agent, maxAttempts: 40, retryDelayMs: 50 } });
    const creates = Array.from({ length: 40 }, (_, index) =>
      signoff.requestApproval(signoff.guard('payment.send', { n: index }), { idempotencyKey: `crash-create:${index}` }),
    );
    await new Promise((resolve) => setTimeout(resolve, 30)); // some creates have committed, some are in flight
    await killHard(child);
    child = await startServer(port);
    const created = await Promise.all(creates);

    expect(new Set(created.map((request) => request.id)).size).toBe(40);
    const { audit, requests } = await readAudit();
    for (let index = 0; index < 40; index += 1) {
      expect(requests.filter((request) => request.idempotencyKey === `crash-create:${index}`)).toHaveLength(1);
    }
    const createdEvents = audit.filter((entry) => entry.type === 'request.created');
    expect(new Set(createdEvents.map((entry) => entry.requestId)).size).toBe(createdEvents.length); // no request logged twice
    expect(verifyAuditChain(audit)).toBeUndefined();
  }, 60_000);

  it('during decisions: each request is decided exactly once, and waiting clients get their answers', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    await killHard(child as ChildProcess);
    child = await startServer(port);
    const signoff = createSignoff({ policy, controlPlane: { url, apiKey: keys.agent, maxAttempts: 40, retryDelayMs: 50 } });
    const requests = await Promise.all(
      Array.from({ length: 30 }, (_, index) => signoff.requestApproval(signoff.guard('payment.send', { d: index }), { idempotencyKey: `crash-decide:${index}` })),
    );
    const waiting = requests.map((request) => signoff.waitForDecision(request.id, { timeoutMs: 30_000 }));
    const reviewer = createReviewerClient({ url, apiKey: keys.ana, timeoutMs: 2_000 });
    // A reviewer who retries until the server answers: after a crash a retry either applies or is refused as already decided.
    const decideUntilAnswered = async (id: string) => {
      for (;;) {
        try {
          return await reviewer.decide(id, 'approve');
        } catch (error) {
          const code = (error as { serverCode?: string }).serverCode;
          if (code === 'ALREADY_RESOLVED' || code === 'DUPLICATE_DECISION') return undefined;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };
    const deciding = requests.map((request) => decideUntilAnswered(request.id));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await killHard(child);
    child = await startServer(port);
    await Promise.all(deciding);

    const answers = await Promise.all(waiting);
    expect(answers.every((answer) => answer.status === 'approved' && answer.granted)).toBe(true);
    const { audit } = await readAudit();
    for (const request of requests) {
      expect(audit.filter((entry) => entry.type === 'request.approved' && entry.requestId === request.id)).toHaveLength(1);
      expect(audit.filter((entry) => entry.type === 'decision.recorded' && entry.requestId === request.id)).toHaveLength(1);
    }
    expect(verifyAuditChain(audit)).toBeUndefined();
  }, 60_000);

  it('during webhook delivery: after the restart every event reaches the receiver, the same webhook-id on any repeat', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    // A receiver that holds the first deliveries open (the server dies while they are in flight), then answers 204.
    let holding = true;
    const delivered: string[] = [];
    const receiver = createHttpServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (holding) return; // never answered: the sender is killed meanwhile
        delivered.push(verifyWebhook(secret, request.headers as Record<string, string>, body).id);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
    const webhooks = ['webhooks:', `  secret: "${secret}"`, `  endpoints: ["${endpoint}"]`, '  first_retry_seconds: 0.1', '  lease_seconds: 1'];

    const port = await freePort();
    await killHard(child as ChildProcess);
    child = await startServer(port, webhooks);
    const signoff = createSignoff({ policy, controlPlane: { url: `http://127.0.0.1:${port}`, apiKey: keys.agent } });
    const requests = await Promise.all(Array.from({ length: 10 }, (_, index) => signoff.requestApproval(signoff.guard('payment.send', { w: index }))));
    await new Promise((resolve) => setTimeout(resolve, 300)); // deliveries claimed and in flight
    await killHard(child);
    holding = false;
    child = await startServer(port, webhooks);

    await expect.poll(() => new Set(delivered).size, { timeout: 20_000 }).toBe(10);
    const { audit } = await readAudit();
    expect(audit.filter((entry) => entry.type === 'delivery.failed')).toHaveLength(0);
    expect(requests).toHaveLength(10);
    await new Promise((resolve) => receiver.close(resolve));
    receiver.closeAllConnections();
  }, 60_000);
});
