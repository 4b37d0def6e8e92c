// `pnpm --filter @signoff/server exec tsx bench/list-filters.ts [requests]`: fills a SQLite store (and a
// PostgreSQL schema when SIGNOFF_TEST_POSTGRES_URL is set) with N requests (default 10,000), half
// decided, and times a page of 51 for each History filter as a ratio of an unfiltered page measured
// in the same run (medians of 15): the figures behind the inbox docs' note on search cost (issue #18).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuard, parsePolicy } from '@signoff/core';
import pg from 'pg';
import { openApprovalRequest } from '../src/engine/open-approval-request.js';
import { openPostgresStore } from '../src/store/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';

const guard = createGuard(parsePolicy('rules: [{ tool: "**", action: escalate, metadata: { approval_timeout_minutes: 10 } }]'));
function newRequest(id: string, options: { tool: string; now: Date }) {
  const args = { to: 'acme', amount: 500, id };
  return openApprovalRequest({ tool: options.tool, args }, { id, requester: 'agent-1', now: options.now, decision: guard(options.tool, args), defaultTimeoutMs: 60_000 });
}

const N = Number(process.argv[2] ?? 10_000);
async function fill(store: Store) {
  const start = Date.parse('2026-11-24T06:00:00.000Z');
  for (let index = 0; index < N; index += 1) {
    const { request, events } = newRequest(`apr_bench${String(index).padStart(8, '0')}`, { tool: index % 3 ? 'payment.send' : 'deploy.run', now: new Date(start + index * 1000) });
    const decided = index % 2 === 0
      ? { ...request, status: 'approved' as const, decisions: [{ reviewer: index % 1000 === 0 ? 'rare' : 'ana', verdict: 'approve' as const, channel: 'inbox' as const, at: request.createdAt, argsHash: request.approvedArgsHash }] }
      : request;
    await store.createRequest(decided, events);
  }
}
async function median(run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < 15; round += 1) {
    const started = process.hrtime.bigint();
    await run();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[7] as number;
}
async function measure(name: string, store: Store) {
  await fill(store);
  const base = await median(() => store.listRequests({ limit: 51 }));
  const cases: Array<[string, Parameters<Store['listRequests']>[0]]> = [
    ['statuses (resolved)', { statuses: ['approved', 'executed', 'denied', 'expired'], limit: 51 }],
    ['tool', { tool: 'deploy.run', limit: 51 }],
    ['day range', { createdSince: '2026-11-24T07:00:00.000Z', createdUntil: '2026-11-24T08:00:00.000Z', limit: 51 }],
    ['reviewer (common)', { reviewer: 'ana', limit: 51 }],
    ['reviewer (rare: 1 in 2000)', { reviewer: 'rare', limit: 51 }],
    ['search (common)', { search: 'acme', limit: 51 }],
    ['search (rare: one request)', { search: `apr_bench${String(N - 7).padStart(8, '0')}`.replace(/.$/, '0'), limit: 51 }],
  ];
  console.log(`${name}, ${N} requests: unfiltered page of 51 median ${base.toFixed(2)} ms`);
  for (const [label, filter] of cases) {
    const time = await median(() => store.listRequests(filter));
    console.log(`  ${label}: ${(time / base).toFixed(1)}x (${time.toFixed(2)} ms)`);
  }
  await store.close();
}
await measure('SQLite', openSqliteStore(join(mkdtempSync(join(tmpdir(), 'signoff-filter-bench-')), 'bench.db')));
if (process.env.SIGNOFF_TEST_POSTGRES_URL) {
  const schema = `bench_filters_${process.pid}`;
  const store = await openPostgresStore({ connectionString: process.env.SIGNOFF_TEST_POSTGRES_URL, schema });
  await measure('PostgreSQL', store);
  const client = new pg.Client(process.env.SIGNOFF_TEST_POSTGRES_URL);
  await client.connect();
  await client.query(`DROP SCHEMA ${schema} CASCADE`);
  await client.end();
}
