// pnpm bench:load — 200 simulated agents and 20 reviewers against real server processes (one on
// SQLite; two replicas on one PostgreSQL database when SIGNOFF_TEST_POSTGRES_URL is set). Reports
// throughput and p50/p99 of create, decide and resume, counts errors (must be 0), then checks that
// every request reached exactly one terminal state and that the audit chain verifies.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReviewerClient, createSignoff } from '@signoff/core';
import { spawnServer, type ServerProcess } from '../src/__fixtures__/server-process.js';
import { openStore, sha256Hex, verifyAuditChain } from '../src/index.js';
import { percentile } from './percentile.js';

const quick = process.argv.includes('--quick');
// --cpu-prof=<dir> writes a CPU profile of each server process into <dir> (where a request's time goes).
const cpuProfileDir = process.argv.find((arg) => arg.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);
// --sqlite-only skips the PostgreSQL replicas.
const sqliteOnly = process.argv.includes('--sqlite-only');
const REQUESTS = quick ? 300 : 2_000;
const AGENTS = 200;
const REVIEWERS = 20; // half finance, half security
const DENY_SHARE = 0.1;
const POLICY = `version: 1
default: deny
rules:
  - id: load
    tool: load.op
    action: escalate
    metadata: { required_approvals: 2, approver_roles: [finance, security], approval_timeout_minutes: 30 }
`;

type Replica = ServerProcess;

async function main(): Promise<void> {
  const rows: string[][] = [];
  rows.push(await scenario('SQLite, 1 server', 'sqlite:./load.db', 1));
  const postgresUrl = sqliteOnly ? undefined : process.env.SIGNOFF_TEST_POSTGRES_URL;
  if (postgresUrl) {
    const schema = `load_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    rows.push(await scenario('PostgreSQL, 2 replicas', `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}schema=${schema}`, 2));
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  } else console.log('(SIGNOFF_TEST_POSTGRES_URL not set: the PostgreSQL replicas are skipped)');
  console.log(`\n${AGENTS} agents, ${REVIEWERS} reviewers, ${REQUESTS.toLocaleString('en')} requests each needing finance + security (${DENY_SHARE * 100}% vetoed)`);
  const header = ['setup', 'requests/s', 'create p50/p99', 'decide p50/p99', 'resume p50/p99', 'errors', 'expected refusals', 'one terminal state each', 'audit chain'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  if (rows.some((row) => row[5] !== '0' || row[7] !== 'yes' || row[8] !== 'verifies')) process.exitCode = 1;
}

async function scenario(name: string, store: string, replicaCount: number): Promise<string[]> {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-load-'));
  const agentKey = `sk_load_agent_${randomUUID()}`;
  const reviewers = Array.from({ length: REVIEWERS }, (_, index) => ({
    id: `r${index}`,
    role: index % 2 === 0 ? 'finance' : 'security',
    key: `sk_load_r${index}_${randomUUID()}`,
  }));
  writeFileSync(join(directory, 'policy.yaml'), POLICY);
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      'policy: ./policy.yaml',
      `store: "${store}"`,
      'listen: 127.0.0.1:0',
      'reviewers:',
      ...reviewers.map((reviewer) => `  - { id: ${reviewer.id}, name: Reviewer ${reviewer.id}, roles: [${reviewer.role}] }`),
      'api_keys:',
      `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(agentKey)}" }`,
      ...reviewers.map((reviewer) => `  - { name: ${reviewer.id}, kind: reviewer, reviewer: ${reviewer.id}, key_sha256: "${sha256Hex(reviewer.key)}" }`),
    ].join('\n'),
  );
  const replicas: Replica[] = [];
  for (let index = 0; index < replicaCount; index += 1) replicas.push(await startReplica(join(directory, 'signoff.yaml')));
  const urlFor = (index: number) => (replicas[index % replicas.length] as Replica).url;

  const timings = { create: [] as number[], decide: [] as number[], resume: [] as number[] };
  let errors = 0;
  let refusals = 0;
  const created = new Set<string>();
  let remaining = REQUESTS;
  let finished = 0;
  const started = performance.now();

  const agents = Array.from({ length: AGENTS }, async (_, agent) => {
    const signoff = createSignoff({ policy: POLICY, controlPlane: { url: urlFor(agent), apiKey: agentKey } });
    while (remaining > 0) {
      remaining -= 1;
      try {
        const before = performance.now();
        const request = await signoff.requestApproval(signoff.guard('load.op', { agent, n: randomUUID() }));
        timings.create.push(performance.now() - before);
        created.add(request.id);
        const resolved = await signoff.waitForDecision(request.id, { timeoutMs: 120_000 });
        // Resume latency: from the moment the server resolved it to this agent holding the answer.
        timings.resume.push(Date.now() - Date.parse(resolved.resolvedAt ?? resolved.createdAt));
      } catch (error) {
        errors += 1;
        console.error(`agent ${agent}:`, (error as Error).message);
      } finally {
        finished += 1;
      }
    }
  });

  const reviewing = reviewers.map(async (reviewer, index) => {
    const client = createReviewerClient({ url: urlFor(index), apiKey: reviewer.key });
    while (finished < REQUESTS) {
      let queue;
      try {
        queue = await client.list({ actionable: true, limit: 50 });
      } catch (error) {
        errors += 1;
        console.error(`reviewer ${reviewer.id} list:`, (error as Error).message);
        continue;
      }
      if (queue.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      // Reviewers pick from the queue in different orders, so several race on the same request.
      const request = queue[Math.floor(Math.random() * Math.min(queue.length, 5))];
      if (!request) continue;
      const before = performance.now();
      try {
        await client.decide(request.id, Math.random() < DENY_SHARE ? 'deny' : 'approve');
        timings.decide.push(performance.now() - before);
      } catch (error) {
        const code = (error as { serverCode?: string }).serverCode;
        // Losing a race is a correct refusal, not an error: the request resolved (or this reviewer decided) first.
        if (code === 'ALREADY_RESOLVED' || code === 'DUPLICATE_DECISION') refusals += 1;
        else {
          errors += 1;
          console.error(`reviewer ${reviewer.id} decide:`, (error as Error).message);
        }
      }
    }
  });

  await Promise.all([...agents, ...reviewing]);
  const seconds = (performance.now() - started) / 1000;

  // Afterwards: every request exactly one terminal event, and the chain verifies.
  const storeUrl = store.startsWith('sqlite:') ? `sqlite:${join(directory, store.slice('sqlite:'.length))}` : store;
  await Promise.all(replicas.map(stopReplica));
  const audit = await (async () => {
    const opened = await openStore(storeUrl);
    try {
      return await opened.readAudit();
    } finally {
      await opened.close();
    }
  })();
  const terminal = new Map<string, number>();
  for (const entry of audit) {
    if ((entry.type === 'request.approved' || entry.type === 'request.denied' || entry.type === 'request.expired') && entry.requestId) {
      terminal.set(entry.requestId, (terminal.get(entry.requestId) ?? 0) + 1);
    }
  }
  const exactlyOnce = created.size === REQUESTS && [...created].every((id) => terminal.get(id) === 1);
  rmSync(directory, { recursive: true, force: true });
  const pair = (values: number[]) => `${percentile(values, 0.5).toFixed(1)} / ${percentile(values, 0.99).toFixed(1)} ms`;
  return [
    name,
    Math.round(REQUESTS / seconds).toLocaleString('en'),
    pair(timings.create),
    pair(timings.decide),
    pair(timings.resume),
    String(errors),
    String(refusals),
    exactlyOnce ? 'yes' : `NO (${created.size} created)`,
    verifyAuditChain(audit) ? 'BROKEN' : 'verifies',
  ];
}

async function startReplica(config: string): Promise<Replica> {
  return spawnServer(config, cpuProfileDir ? { nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] } : {});
}

async function stopReplica(replica: Replica): Promise<void> {
  replica.child.kill('SIGTERM');
  await new Promise((resolve) => replica.child.once('exit', resolve));
}


await main();
