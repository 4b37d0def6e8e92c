import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSignoff, hashArgs } from '@signoff/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from './audit/audit-chain.js';
import { loadServerConfig, sha256Hex } from './config/server-config.js';
import { startServer, type RunningServer } from './start-server.js';

const postgresUrl = process.env.SIGNOFF_TEST_POSTGRES_URL;
if (!postgresUrl) console.warn('SIGNOFF_TEST_POSTGRES_URL is not set: the two-replica tests are skipped');

describe.skipIf(!postgresUrl)('two control plane replicas on one PostgreSQL database', () => {
  const schema = `replicas_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const directory = mkdtempSync(join(tmpdir(), 'signoff-replicas-'));
  const keys = { agent: `sk_agent_${randomUUID()}`, ana: `sk_ana_${randomUUID()}`, sam: `sk_sam_${randomUUID()}`, budgeted: `sk_budgeted_${randomUUID()}` };
  const policy = [
    'version: 1',
    'default: deny',
    'rules:',
    '  - { tool: deploy.run, action: escalate, metadata: { approval_timeout_minutes: 0.02 } }',
    '  - { tool: payment.send, action: escalate }',
    '  - { tool: wire.send, action: escalate, metadata: { required_approvals: 2, approver_roles: [finance, security] } }',
    '',
  ].join('\n');
  const replicas: RunningServer[] = [];

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    rmSync(directory, { recursive: true, force: true });
  });

  async function startReplica(): Promise<RunningServer> {
    writeFileSync(join(directory, 'policy.yaml'), policy);
    writeFileSync(
      join(directory, 'signoff.yaml'),
      [
        'policy: ./policy.yaml',
        `store: "${postgresUrl}${postgresUrl?.includes('?') ? '&' : '?'}schema=${schema}"`,
        'listen: 127.0.0.1:0',
        'sweep_interval_seconds: 0.1',
        'reviewers: [{ id: ana, name: Ana, roles: [finance] }, { id: sam, name: Sam, roles: [security] }]',
        'api_keys:',
        `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(keys.agent)}" }`,
        `  - { name: budgeted, kind: agent, key_sha256: "${sha256Hex(keys.budgeted)}", escalation_budget: { max_pending: 3 } }`,
        `  - { name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex(keys.ana)}" }`,
        `  - { name: sam, kind: reviewer, reviewer: sam, key_sha256: "${sha256Hex(keys.sam)}" }`,
      ].join('\n'),
    );
    const replica = await startServer(loadServerConfig(join(directory, 'signoff.yaml')));
    replicas.push(replica);
    return replica;
  }

  it('wakes a client waiting on replica A when the decision lands on replica B', async () => {
    const [a, b] = [await startReplica(), await startReplica()];
    const signoff = createSignoff({ policy, controlPlane: { url: a!.url, apiKey: keys.agent } });
    const request = await signoff.requestApproval(signoff.guard('payment.send', { amount: 1 }));
    const waiting = signoff.waitForDecision(request.id, { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const decided = await fetch(`${b!.url}/v1/approvals/${request.id}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.ana}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'approve' }),
    });
    expect(decided.status).toBe(200);
    expect(await waiting).toMatchObject({ id: request.id, status: 'approved', granted: true });
  });

  it('holds an agent to its escalation budget across replicas, telling reviewers once', async () => {
    const [a, b] = replicas;
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        fetch(`${(index % 2 ? a : b)!.url}/v1/approvals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${keys.budgeted}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tool: 'payment.send', args: { amount: index }, idempotencyKey: `budget-${index}` }),
        }).then(async (response) => ({ status: response.status, body: (await response.json()) as { error?: { code: string } } })),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 201)).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome.status === 429 && outcome.body.error?.code === 'ESCALATION_BUDGET_EXCEEDED')).toHaveLength(9);
    const refusals = (await a!.store.readAudit()).filter((entry) => entry.type === 'request.refused' && entry.actor === 'budgeted');
    expect(refusals.filter((entry) => entry.detail.reviewersNotified === true)).toHaveLength(1);
    // The core client fails closed on it, with the reason, and does not retry.
    const signoff = createSignoff({ policy, controlPlane: { url: b!.url, apiKey: keys.budgeted } });
    const authorization = await signoff.authorize('payment.send', { amount: 99 }, { idempotencyKey: 'budget-client' });
    expect(authorization).toMatchObject({ granted: false, errorCode: 'ESCALATION_BUDGET_EXCEEDED' });
    expect(authorization.reason).toMatch(/escalation budget exceeded: agent 'budgeted' already has 3 requests waiting for review \(max_pending 3\)/);
  });

  it('folds identical calls sent to both replicas into one request, which runs once', async () => {
    const [a, b] = replicas;
    const args = { amount: 4242, to: 'same' };
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        fetch(`${(index % 2 ? a : b)!.url}/v1/approvals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${keys.agent}`, 'content-type': 'application/json' },
          body: JSON.stringify({ tool: 'payment.send', args, idempotencyKey: `twin-${index}` }),
        }).then(async (response) => ({ status: response.status, body: (await response.json()) as { id: string } })),
      ),
    );
    const ids = new Set(created.map((outcome) => outcome.body.id));
    expect(ids.size).toBe(1);
    expect(created.filter((outcome) => outcome.status === 201)).toHaveLength(1);
    const [id] = [...ids];
    const audit = await a!.store.readAudit();
    expect(audit.filter((entry) => entry.type === 'request.deduplicated' && entry.requestId === id)).toHaveLength(5);
    // Approved once, the shared grant runs once: the second caller's claim is ALREADY_EXECUTED.
    await fetch(`${a!.url}/v1/approvals/${id}/decision`, { method: 'POST', headers: { authorization: `Bearer ${keys.ana}`, 'content-type': 'application/json' }, body: JSON.stringify({ verdict: 'approve' }) });
    const first = createSignoff({ policy, controlPlane: { url: a!.url, apiKey: keys.agent } });
    const second = createSignoff({ policy, controlPlane: { url: b!.url, apiKey: keys.agent } });
    const one = await first.authorize('payment.send', args, { idempotencyKey: 'twin-0' });
    const other = await second.authorize('payment.send', args, { idempotencyKey: 'twin-1' });
    expect(one).toMatchObject({ granted: true });
    expect(other).toMatchObject({ granted: false, errorCode: 'ALREADY_EXECUTED' });
  });

  it('expires each overdue request exactly once although both replicas sweep', async () => {
    const [a] = replicas;
    const signoff = createSignoff({ policy, controlPlane: { url: a!.url, apiKey: keys.agent } });
    const requests = await Promise.all(Array.from({ length: 10 }, () => signoff.requestApproval(signoff.guard('deploy.run', { id: randomUUID() }))));
    const results = await Promise.all(requests.map((request) => signoff.waitForDecision(request.id, { timeoutMs: 20_000 })));
    expect(results.every((result) => result.status === 'expired' && !result.granted)).toBe(true);
    const audit = await a!.store.readAudit();
    const expiries = audit.filter((entry) => entry.type === 'request.expired');
    expect(new Set(expiries.map((entry) => entry.requestId)).size).toBe(10);
    expect(expiries).toHaveLength(10);
    expect(verifyAuditChain(audit)).toBeUndefined();
  });

  it('never lands an approval on args its reviewer did not see, when an edit races it on the other replica', async () => {
    const [a, b] = replicas;
    const post = (url: string, key: string, path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (response) => ({ status: response.status, body: (await response.json()) as any })); // eslint-disable-line @typescript-eslint/no-explicit-any -- tests index into arbitrary JSON
    for (let trial = 0; trial < 40; trial += 1) {
      // Other args each trial: an identical call still pending would be folded into the last trial's request.
      const amount = 100 + trial;
      const shown = hashArgs({ to: 'acme', amount });
      const mallory = hashArgs({ to: 'mallory', amount });
      const created = await post(a!.url, keys.agent, '/v1/approvals', { tool: 'wire.send', args: { to: 'acme', amount }, idempotencyKey: `race-${trial}` });
      // Ana (finance) approves "to: acme" on A while Sam (security) approves it edited to mallory on B.
      const [ana, sam] = await Promise.all([
        post(a!.url, keys.ana, `/v1/approvals/${created.body.id}/decision`, { verdict: 'approve', argsHash: shown }),
        post(b!.url, keys.sam, `/v1/approvals/${created.body.id}/decision`, { verdict: 'approve', argsHash: shown, args: { to: 'mallory', amount } }),
      ]);
      expect(sam.status).toBe(200);
      const final = (await post(a!.url, keys.agent, '/v1/approvals', { tool: 'wire.send', args: { to: 'acme', amount }, idempotencyKey: `race-${trial}` })).body;
      // Whichever committed first, Ana's approval never counts for mallory: the request waits for finance again.
      expect(final.status).toBe('pending');
      expect(final.approvedArgsHash).toBe(mallory);
      expect(final.decisions.filter((decision: { reviewer: string; argsHash: string }) => decision.reviewer === 'ana' && decision.argsHash === mallory)).toEqual([]);
      if (ana.status !== 200) expect(ana.body.error.code).toBe('ARGS_CHANGED');
    }
  });

  it('lets one claim through when two agents claim the same grant on two replicas at once', async () => {
    const [a, b] = replicas;
    const signoffA = createSignoff({ policy, controlPlane: { url: a!.url, apiKey: keys.agent } });
    const signoffB = createSignoff({ policy, controlPlane: { url: b!.url, apiKey: keys.agent } });
    for (let trial = 0; trial < 10; trial += 1) {
      const request = await signoffA.requestApproval(signoffA.guard('payment.send', { amount: trial }), { idempotencyKey: `claim-race-${trial}` });
      await fetch(`${b!.url}/v1/approvals/${request.id}/decision`, { method: 'POST', headers: { authorization: `Bearer ${keys.ana}`, 'content-type': 'application/json' }, body: JSON.stringify({ verdict: 'approve' }) });
      const approved = await signoffA.getApproval(request.id);
      const claims = await Promise.allSettled([signoffA.claimExecution(approved), signoffB.claimExecution(approved)]);
      expect(claims.filter((claim) => claim.status === 'fulfilled')).toHaveLength(1);
      const refused = claims.find((claim) => claim.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ code: 'ALREADY_EXECUTED' });
    }
    expect(verifyAuditChain(await a!.store.readAudit())).toBeUndefined();
  });

  it('a waiter still gets a decision made while its replica’s LISTEN connection was cut', async () => {
    const [a, b] = replicas.length >= 2 ? replicas : [await startReplica(), await startReplica()];
    const signoff = createSignoff({ policy, controlPlane: { url: a!.url, apiKey: keys.agent } });
    const request = await signoff.requestApproval(signoff.guard('payment.send', { amount: 'listen-cut' }), { idempotencyKey: 'listen-cut' });
    // A raw long-poll of 15 s: it must answer with the decision, not time out still pending.
    const waiting = fetch(`${a!.url}/v1/approvals/${request.id}/wait?timeout=15`, { headers: { authorization: `Bearer ${keys.agent}` } }).then((response) => response.json() as Promise<{ status: string }>);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const cut = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`signoff-listen:${schema}`]);
    await admin.end();
    expect(cut.rowCount).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const decided = await fetch(`${b!.url}/v1/approvals/${request.id}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.ana}`, 'content-type': 'application/json' },
      body: JSON.stringify({ verdict: 'approve' }),
    });
    expect(decided.status).toBe(200);
    // Before: the waiter heard nothing until its long-poll ran out (14.8 s of 15 s). A stall, not a speed: 10 s is far beyond either.
    const stalled = new Promise<'stalled'>((resolve) => setTimeout(() => resolve('stalled'), 10_000).unref());
    expect(await Promise.race([waiting, stalled])).toMatchObject({ status: 'approved' });
  }, 30_000);
});
