// `pnpm --filter @signoff/server bench:audit [count] [refusals|requests]`: writes a SQLite store and runs
// `signoff audit verify` on it in a child process, reporting its rate and peak memory — the figure
// behind "verify streams: bounded memory" (issue #21). `refusals` (the default): `count` audit entries
// that concern no request (the chain alone). `requests`: `count` resolved requests, each with its row
// bound to its state entry as the API writes it (rows checked against the log too).
// SIGNOFF_BENCH_BEFORE_CLI=<path to another checkout's packages/cli/bin/signoff.js> also runs that
// build's verify on the same store, alternating with this one (before/after in one run);
// SIGNOFF_BENCH_RUNS (default 1) runs each that many times; SIGNOFF_BENCH_HEAP_MB caps both heaps.
// SIGNOFF_BENCH_POSTGRES_URL: a PostgreSQL store instead (its own schema, vacuumed after the load, dropped after).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGuard, parsePolicy } from '@signoff/core';
import { openApprovalRequest } from '../src/engine/open-approval-request.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore } from '../src/store/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';

const total = Number(process.argv[2] ?? 1_000_000);
const kind = process.argv[3] === 'requests' ? 'requests' : 'refusals';
const directory = mkdtempSync(join(os.tmpdir(), 'signoff-audit-bench-'));
const file = join(directory, 'audit.db');
const postgresUrl = process.env.SIGNOFF_BENCH_POSTGRES_URL;
const schema = `signoff_verify_bench_${randomBytes(3).toString('hex')}`;
const store = postgresUrl ? await openPostgresStore({ connectionString: postgresUrl, schema }) : openSqliteStore(file);
const storeUrl = postgresUrl ? `${postgresUrl}?schema=${schema}` : `sqlite:${file}`;
const sql = async (statement: string) => {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  const { rows } = await client.query<Record<string, string>>(statement);
  await client.end();
  return rows;
};
const guard = createGuard(parsePolicy('rules: [{ tool: "**", action: escalate }]'));
const load = () => `load average ${os.loadavg().map((value) => value.toFixed(1)).join(' / ')}`;
const started = performance.now();
for (let written = 0; written < total; written += 5_000) {
  const batch = Math.min(5_000, total - written);
  if (kind === 'refusals') {
    await store.appendAudit(Array.from({ length: batch }, (_, index) => ({ type: 'access.refused' as const, actor: 'unknown', channel: 'api' as const, detail: { reason: 'unknown API key', n: written + index } })));
    continue;
  }
  const at = new Date(Date.now() - 86_400_000);
  await store.createRequests(
    Array.from({ length: batch }, (_, offset) => {
      const index = written + offset;
      const args = { to: `vendor-${index % 997}`, amount: (index * 37) % 10_000 };
      const opened = openApprovalRequest({ tool: 'payment.send', args }, { id: `apr_bench${String(index).padStart(10, '0')}`, requester: `agent-${index % 10}`, now: at, decision: guard('payment.send', args), defaultTimeoutMs: 3_600_000 });
      return { request: { ...opened.request, status: 'denied' as const, resolvedAt: at.toISOString() }, events: opened.events };
    }),
  );
}
await store.close();
if (postgresUrl) for (const table of ['approval_requests', 'audit_log']) await sql(`VACUUM ANALYZE ${pg.escapeIdentifier(schema)}.${table}`);
const size = postgresUrl
  ? Number((await sql(`SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${schema}' AND c.relkind = 'r'`))[0]?.bytes)
  : statSync(file).size;
const entries = kind === 'refusals' ? total : `${total} requests`;
console.log(`wrote ${entries.toLocaleString('en-US')} ${kind === 'refusals' ? 'entries' : ''} (${postgresUrl ? 'PostgreSQL' : 'SQLite'}, ${(size / 1e6).toFixed(0)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s; ${load()}`);

const heap = process.env.SIGNOFF_BENCH_HEAP_MB;
const env = { ...process.env, ...(heap ? { NODE_OPTIONS: `--max-old-space-size=${heap}` } : {}) };
const builds: Array<[string, string]> = [['this build', fileURLToPath(new URL('../../cli/bin/signoff.js', import.meta.url))]];
if (process.env.SIGNOFF_BENCH_BEFORE_CLI) builds.unshift(['before', process.env.SIGNOFF_BENCH_BEFORE_CLI]);
for (let round = 0; round < Number(process.env.SIGNOFF_BENCH_RUNS ?? 1); round += 1) {
  for (const [name, bin] of builds) {
    const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, 'audit', 'verify', '--store', storeUrl], { encoding: 'utf8', env });
    const peakKb = Number(run.stderr.trim().split('\n').at(-1));
    const printed = run.stdout.trim() || run.stderr.trim().split('\n').slice(-6).join('\n');
    console.log(`${name}${heap ? ` (heap cap ${heap} MB)` : ''}: exit ${run.status}; peak RSS ${(peakKb / 1024).toFixed(0)} MB; ${load()}\n  ${printed}`);
  }
}
rmSync(directory, { recursive: true, force: true });
if (postgresUrl) await sql(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
