import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSignoff } from '@signoff/core';
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
  const keys = { agent: `sk_agent_${randomUUID()}`, ana: `sk_ana_${randomUUID()}` };
  const policy = 'version: 1\ndefault: deny\nrules:\n  - { tool: deploy.run, action: escalate, metadata: { approval_timeout_minutes: 0.02 } }\n  - { tool: payment.send, action: escalate }\n';
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
        'reviewers: [{ id: ana, name: Ana }]',
        'api_keys:',
        `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(keys.agent)}" }`,
        `  - { name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex(keys.ana)}" }`,
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
});
