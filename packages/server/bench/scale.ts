// `pnpm --filter @signoff/server bench:scale [requests] [pending]` (defaults 1,000,000 and 100,000):
// seeds each store (SQLite; PostgreSQL too when SIGNOFF_TEST_POSTGRES_URL is set) with that many
// requests, `pending` of them waiting across 50 roles, written in bulk through the store; then
// reports the actionable query's p50/p99 (first pages and pages after a cursor) against a
// primary-key read measured in the same run, the inbox's first page, the sweeper's rate on an
// expiry burst of every pending request, and `signoff audit verify`'s rate and peak RSS (issue #21).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGuard, parsePolicy, type ApprovalRequest } from '@signoff/core';
import pg from 'pg';
import { createApprovalService } from '../src/approval-service.js';
import { renderPendingPage } from '../src/channels/inbox/inbox-pages.js';
import { createWebhookChannel } from '../src/channels/webhook-channel.js';
import { openApprovalRequest } from '../src/engine/open-approval-request.js';
import type { Reviewer } from '../src/engine/reviewer.js';
import { openPostgresStore } from '../src/store/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { percentile } from './percentile.js';

const total = Number(process.argv[2] ?? 1_000_000);
const pending = Number(process.argv[3] ?? 100_000);
const ROLES = Array.from({ length: 50 }, (_, index) => `role-${index}`);
// Reviewers hold one or two roles; a few own an agent key (their requests are not theirs).
const reviewers: Reviewer[] = Array.from({ length: 100 }, (_, index) => ({
  id: `reviewer-${index}`,
  name: `Reviewer ${index}`,
  roles: index % 3 === 0 ? [ROLES[index % 50] as string, ROLES[(index + 7) % 50] as string] : [ROLES[index % 50] as string],
}));
const guard = createGuard(parsePolicy('rules: [{ tool: "**", action: escalate, metadata: { approval_timeout_minutes: 60 } }]'));
// When the store being measured was seeded: deadlines fall 2–3 hours after it, so none lapses while a
// million requests load and the queries run; the sweeper's burst runs with its clock 4 hours ahead.
let now = new Date();
const DEADLINES_FROM_MS = 2 * 3_600_000;
const SWEEP_CLOCK_AHEAD_MS = 4 * 3_600_000;
const load = () => `load average ${os.loadavg().map((value) => value.toFixed(1)).join(' / ')} (1 / 5 / 15 min, ${os.cpus().length} cores)`;

/** Request `index`: the newest `pending` wait (deadlines over an hour, 2 hours ahead), the rest resolved over the last 30 days. */
function requestAt(index: number): { request: ApprovalRequest; events: ReturnType<typeof openApprovalRequest>['events'] } {
  const isPending = index >= total - pending;
  const createdAt = new Date(now.getTime() - (total - index) * (isPending ? 30 : 2_500));
  const args = { to: `vendor-${index % 997}`, amount: (index * 37) % 10_000, invoice: `INV-${index}` };
  const opened = openApprovalRequest(
    { tool: `tool.${index % 20}`, args },
    { id: `apr_bench${String(index).padStart(10, '0')}`, requester: `agent-${index % 10}`, now: createdAt, decision: guard('payment.send', args), defaultTimeoutMs: 3_600_000 },
  );
  const role = ROLES[index % 50] as string;
  const request: ApprovalRequest = {
    ...opened.request,
    requirements: { ...opened.request.requirements, approverRoles: [role] },
    expiresAt: new Date(now.getTime() + DEADLINES_FROM_MS + (index % 3_600) * 1_000).toISOString(),
    ...(isPending
      ? index % 5 === 0
        ? { decisions: [{ reviewer: `reviewer-${index % 100}`, verdict: 'approve' as const, channel: 'api' as const, at: createdAt.toISOString(), argsHash: opened.request.approvedArgsHash }] }
        : {}
      : { status: (['denied', 'expired', 'executed'] as const)[index % 3] ?? 'denied', resolvedAt: new Date(createdAt.getTime() + 60_000).toISOString() }),
  };
  return { request, events: opened.events };
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function bench(name: string, store: Store, verifyUrl: string, afterSeed: () => Promise<void> = async () => undefined): Promise<void> {
  console.log(`\n## ${name}: ${total.toLocaleString('en-US')} requests, ${pending.toLocaleString('en-US')} pending across ${ROLES.length} roles`);
  console.log(`before seeding: ${load()}`);
  now = new Date();
  const seeded = await timed(async () => {
    for (let start = 0; start < total; start += 10_000) {
      await store.createRequests(Array.from({ length: Math.min(10_000, total - start) }, (_, offset) => requestAt(start + offset)));
    }
  });
  console.log(`seeded in ${(seeded.ms / 1000).toFixed(0)} s (${Math.round(total / (seeded.ms / 1000)).toLocaleString('en-US')} requests/s, bulk through the store)`);
  await afterSeed();
  console.log(`before measuring: ${load()}`);

  const channel = createWebhookChannel({ secret: `whsec_${randomBytes(24).toString('base64')}`, endpoints: ['http://127.0.0.1:9/hook'] });
  const service = createApprovalService({
    store,
    guard,
    reviewers,
    ownersOf: (agent) => (agent === 'agent-3' ? ['reviewer-3'] : []),
    ownedBy: (reviewer) => (reviewer === 'reviewer-3' ? ['agent-3'] : []),
    defaultTimeoutMs: 3_600_000,
    channels: [channel],
  });

  // The floor: a primary-key read of one checked request, in the same run.
  const floor: number[] = [];
  for (let sample = 0; sample < 300; sample += 1) floor.push((await timed(() => store.getRequest(`apr_bench${String(total - 1 - ((sample * 7919) % pending)).padStart(10, '0')}`))).ms);
  // A second floor: a plain page of the 50 newest requests (the same 50 checked rows, no actionable logic).
  const plain: number[] = [];
  for (let sample = 0; sample < 300; sample += 1) plain.push((await timed(() => store.listRequests({ status: 'pending', limit: 50 }))).ms);
  const first: number[] = [];
  const later: number[] = [];
  let listed = 0;
  for (let sample = 0; sample < 300; sample += 1) {
    const reviewer = reviewers[(sample * 37) % reviewers.length] as Reviewer;
    const order = sample % 2 === 0 ? 'newest' : 'deadline';
    const page = await timed(() => service.list({ actionableBy: reviewer, order, limit: 50 }));
    first.push(page.ms);
    listed += page.value.length;
    const last = page.value.at(-1);
    if (!last) continue;
    const position = order === 'deadline' ? { after: { expiresAt: last.expiresAt, id: last.id } } : { before: { createdAt: last.createdAt, id: last.id } };
    later.push((await timed(() => service.list({ actionableBy: reviewer, order, limit: 50, ...position }))).ms);
  }
  const p50 = percentile(first, 0.5);
  console.log(`primary-key read (floor): p50 ${fmt(percentile(floor, 0.5))}, p99 ${fmt(percentile(floor, 0.99))}`);
  console.log(`plain page of 50 pending (floor 2): p50 ${fmt(percentile(plain, 0.5))}, p99 ${fmt(percentile(plain, 0.99))}`);
  console.log(`actionable, first page of 50: p50 ${fmt(p50)}, p99 ${fmt(percentile(first, 0.99))} (${(p50 / percentile(floor, 0.5)).toFixed(1)}× the one-row floor, ${(p50 / percentile(plain, 0.5)).toFixed(2)}× a plain page; ${Math.round(listed / first.length)} rows a page on average)`);
  console.log(`actionable, page after a cursor: p50 ${fmt(percentile(later, 0.5))}, p99 ${fmt(percentile(later, 0.99))}`);
  const counts: number[] = [];
  for (let sample = 0; sample < 100; sample += 1) counts.push((await timed(() => service.countActionable(reviewers[sample % reviewers.length] as Reviewer))).ms);
  console.log(`actionable count: p50 ${fmt(percentile(counts, 0.5))}, p99 ${fmt(percentile(counts, 0.99))}`);

  // The inbox's first page: count, the page, and the HTML.
  const renders: number[] = [];
  for (let sample = 0; sample < 100; sample += 1) {
    const reviewer = reviewers[sample % reviewers.length] as Reviewer;
    renders.push(
      (
        await timed(async () => {
          const [requests, count] = await Promise.all([service.list({ actionableBy: reviewer, order: 'deadline', limit: 51 }), service.countActionable(reviewer)]);
          return renderPendingPage({ viewer: { reviewer, logoutToken: 'benchmark' }, requests: requests.slice(0, 50), total: count, now: new Date() }).toString();
        })
      ).ms,
    );
  }
  console.log(`inbox first page (count + page + HTML): p50 ${fmt(percentile(renders, 0.5))}, p99 ${fmt(percentile(renders, 0.99))}`);

  // A burst: every pending request is overdue at once (the service's clock two hours ahead).
  const sweeper = createApprovalService({ store, guard, reviewers, defaultTimeoutMs: 3_600_000, channels: [channel], now: () => new Date(now.getTime() + SWEEP_CLOCK_AHEAD_MS) });
  let batches = 0;
  const swept = await timed(() => sweeper.sweep({ onBatch: () => void (batches += 1) }));
  console.log(`sweeper: ${swept.value.toLocaleString('en-US')} expired in ${(swept.ms / 1000).toFixed(1)} s = ${Math.round(swept.value / (swept.ms / 1000)).toLocaleString('en-US')} expiries/s (${batches} batches, each expiry with its audit entry and a webhook delivery queued)`);
  service.close();
  sweeper.close();

  const bin = fileURLToPath(new URL('../../cli/bin/signoff.js', import.meta.url));
  const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, 'audit', 'verify', '--store', verifyUrl], { encoding: 'utf8' });
  const peakKb = Number(run.stderr.trim().split('\n').at(-1));
  console.log(run.stdout.trim() || run.stderr.trim());
  console.log(`peak RSS of audit verify: ${(peakKb / 1024).toFixed(0)} MB`);
  console.log(`after: ${load()}`);
}

const only = process.env.SIGNOFF_BENCH_STORES?.split(',');
if (!only || only.includes('sqlite')) {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-scale-bench-'));
  const file = join(directory, 'scale.db');
  const store = openSqliteStore(file);
  try {
    // No ANALYZE: a server's database has no statistics unless an operator gathers them, and the
    // actionable page must not depend on them (its branches name their index).
    await bench('SQLite', store, `sqlite:${file}`);
    console.log(`database: ${(statSync(file).size / 1e6).toFixed(0)} MB`);
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
const url = process.env.SIGNOFF_TEST_POSTGRES_URL;
if (url && (!only || only.includes('postgres'))) {
  const schema = `signoff_scale_${randomBytes(3).toString('hex')}`;
  const store = await openPostgresStore({ connectionString: url, schema });
  try {
    // The steady state autovacuum leaves (visibility map set, statistics current), not the minute after a bulk load.
    const vacuum = async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      for (const table of ['approval_requests', 'audit_log', 'request_roles', 'request_decided', 'request_retention']) await client.query(`VACUUM ANALYZE ${pg.escapeIdentifier(schema)}.${table}`);
      await client.end();
    };
    await bench('PostgreSQL', store, `${url}?schema=${schema}`, vacuum);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema],
    );
    await client.end();
    console.log(`database: ${(Number(rows[0]?.bytes ?? 0) / 1e6).toFixed(0)} MB (tables with their indexes and TOAST)`);
  } finally {
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
    await client.end();
  }
}
