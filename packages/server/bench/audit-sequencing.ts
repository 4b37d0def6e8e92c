// pnpm --filter @signoff/server bench:sequencing — PostgreSQL store writes with 1 and 2 replicas (two
// stores, two pools, one database, in this process) and the audit log's serialized section: how long
// the audit lock is held per write, read off the wire (from the lock query's answer to COMMIT on
// the same connection), so it measures any design that takes that lock. Needs SIGNOFF_TEST_POSTGRES_URL.
// The pg floor: one pooled INSERT per write, same concurrency, same run. Quote ratios and medians.
import { randomUUID } from 'node:crypto';
import { createGuard, parsePolicy } from '@signoff/core';
import pg from 'pg';
import { verifyAuditChain } from '../src/audit/audit-chain.js';
import { openApprovalRequest } from '../src/engine/open-approval-request.js';
import { openPostgresStore } from '../src/store/postgres-store.js';
import type { Store } from '../src/store/store.js';

const url = process.env.SIGNOFF_TEST_POSTGRES_URL;
if (!url) throw new Error('set SIGNOFF_TEST_POSTGRES_URL');
// Usage: tsx bench/audit-sequencing.ts [writes=2000] [rounds=3] [--batches | --only=batches]
const numbers = process.argv.slice(2).filter((arg) => /^\d+$/.test(arg)).map(Number);
const TOTAL = numbers[0] ?? 2_000;
const CONCURRENCY = 50;
const ROUNDS = numbers[1] ?? 3;
const AUDIT_LOCK = 0x5160_0002;

// Lock hold time, per connection: from the answer to `pg_advisory_xact_lock(AUDIT_LOCK, …)` to the answer to COMMIT/ROLLBACK.
const lockedAt = new WeakMap<object, number>();
let heldMs = 0;
const originalQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function patched(this: object, ...args: unknown[]) {
  const first = args[0] as string | { text?: string; values?: unknown[] };
  const text = typeof first === 'string' ? first : (first?.text ?? '');
  const values = (typeof first === 'string' ? args[1] : first?.values) as unknown[] | undefined;
  const result = originalQuery.apply(this, args);
  if (!(result instanceof Promise)) return result;
  const isLock = text.includes('pg_advisory_xact_lock') && values?.[0] === AUDIT_LOCK;
  const isEnd = text === 'COMMIT' || text === 'ROLLBACK';
  if (!isLock && !isEnd) return result;
  return result.then((value) => {
    const now = performance.now();
    if (isLock) lockedAt.set(this, now);
    else {
      const since = lockedAt.get(this);
      if (since !== undefined) (heldMs += now - since), lockedAt.delete(this);
    }
    return value;
  });
} as typeof pg.Client.prototype.query;

const guard = createGuard(parsePolicy('version: 1\ndefault: deny\nrules:\n  - { tool: bench.op, action: escalate }\n'));

async function runConcurrently(total: number, work: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) await work(next++);
    }),
  );
  return performance.now() - started;
}

async function measureStores(replicas: number): Promise<{ creates: number; decisions: number; createHeldUs: number; decisionHeldUs: number; settleMs: number }> {
  const schema = `bench_seq_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const stores: Store[] = [];
  for (let index = 0; index < replicas; index += 1) stores.push(await openPostgresStore({ connectionString: url as string, schema }));
  const storeFor = (index: number) => stores[index % stores.length] as Store;
  const ids = Array.from({ length: TOTAL }, () => `apr_${randomUUID()}`);
  try {
    heldMs = 0;
    const createMs = await runConcurrently(TOTAL, async (index) => {
      const { request, events } = openApprovalRequest(
        { tool: 'bench.op', args: { n: index } },
        { id: ids[index] as string, requester: 'agent', now: new Date(), decision: guard('bench.op', { n: index }), defaultTimeoutMs: 3_600_000 },
      );
      await storeFor(index).createRequest(request, events);
    });
    const createHeld = heldMs;
    heldMs = 0;
    const decideMs = await runConcurrently(TOTAL, async (index) => {
      await storeFor(index + 1).updateRequest(ids[index] as string, (current) => ({
        request: { ...current, status: 'denied' as const, granted: false },
        events: [{ type: 'request.denied' as const, requestId: current.id, actor: 'ana', channel: 'api' as const, detail: {} }],
        result: null,
      }));
    });
    const decisionHeld = heldMs;
    // Everything written must be in one unbroken chain (readAudit waits for the sequencer, where there is one).
    const settleStarted = performance.now();
    const audit = await (stores[0] as Store).readAudit();
    const settleMs = performance.now() - settleStarted;
    if (audit.length !== TOTAL * 2 || verifyAuditChain(audit)) throw new Error(`audit log broken: ${audit.length} entries, ${JSON.stringify(verifyAuditChain(audit))}`);
    return { creates: (TOTAL * 1000) / createMs, decisions: (TOTAL * 1000) / decideMs, createHeldUs: (createHeld * 1000) / TOTAL, decisionHeldUs: (decisionHeld * 1000) / TOTAL, settleMs };
  } finally {
    await Promise.all(stores.map((store) => store.close()));
    await dropSchema(schema);
  }
}

/** One pooled INSERT per write (a pool of 10 per "replica"), same concurrency. */
async function measureFloor(replicas: number): Promise<number> {
  const table = `bench_floor_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const pools = Array.from({ length: replicas }, () => new pg.Pool({ connectionString: url, max: 10 }));
  await pools[0]?.query(`CREATE TABLE ${table} (id TEXT PRIMARY KEY, body TEXT NOT NULL)`);
  try {
    const ms = await runConcurrently(TOTAL, (index) => (pools[index % pools.length] as pg.Pool).query(`INSERT INTO ${table} (id, body) VALUES ($1, $2)`, [randomUUID(), JSON.stringify({ n: index })]));
    return (TOTAL * 1000) / ms;
  } finally {
    await pools[0]?.query(`DROP TABLE ${table}`);
    await Promise.all(pools.map((pool) => pool.end()));
  }
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await client.end();
}

/**
 * The sequencer's cost per batch: `size` entries committed while an outside session holds the audit
 * lock, then the lock released and the time the sequencer holds it to chain them, per entry. Only
 * meaningful for a store that sequences after commit (before: writers hold the lock themselves).
 */
async function measureBatch(size: number): Promise<number> {
  const schema = `bench_seq_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const store = await openPostgresStore({ connectionString: url as string, schema });
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    // Not counted as a hold: the lock key is inlined (the tally matches it as the first parameter).
    await holder.query(`SELECT pg_advisory_xact_lock(${AUDIT_LOCK}, hashtext($1))`, [schema]);
    await store.createRequests(
      Array.from({ length: size }, (_, index) =>
        openApprovalRequest({ tool: 'bench.op', args: { n: index } }, { id: `apr_${randomUUID()}`, requester: 'agent', now: new Date(), decision: guard('bench.op', { n: index }), defaultTimeoutMs: 3_600_000 }),
      ),
    );
    heldMs = 0;
    await holder.query('COMMIT');
    await store.readAudit();
    return (heldMs * 1000) / size;
  } finally {
    await holder.end();
    await store.close();
    await dropSchema(schema);
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const rows: string[][] = [];
for (const replicas of process.argv.includes('--only=batches') ? [] : [1, 2]) {
  const runs: Awaited<ReturnType<typeof measureStores>>[] = [];
  const floors: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    floors.push(await measureFloor(replicas));
    runs.push(await measureStores(replicas));
  }
  const floor = median(floors);
  const creates = median(runs.map((run) => run.creates));
  rows.push([
    String(replicas),
    Math.round(creates).toLocaleString('en'),
    Math.round(median(runs.map((run) => run.decisions))).toLocaleString('en'),
    Math.round(floor).toLocaleString('en'),
    (creates / floor).toFixed(2),
    median(runs.map((run) => run.createHeldUs)).toFixed(0),
    median(runs.map((run) => run.decisionHeldUs)).toFixed(0),
    median(runs.map((run) => run.settleMs)).toFixed(0),
  ]);
}
if (process.argv.some((arg) => arg.startsWith('--batches') || arg === '--only=batches')) {
  for (const size of [1, 10, 100, 1_000]) {
    const perEntry = median([await measureBatch(size), await measureBatch(size), await measureBatch(size)]);
    console.log(`sequencer: batch of ${size}: audit lock held ${perEntry.toFixed(0)} µs per entry (${((perEntry * size) / 1000).toFixed(2)} ms per batch)`);
  }
}
console.log(`\nPostgreSQL store, ${TOTAL} creates then ${TOTAL} decisions, ${CONCURRENCY} concurrent, median of ${ROUNDS} (this machine is shared: compare within a run)`);
const header = ['replicas', 'creates/s', 'decisions/s', 'pg floor writes/s', 'creates × floor', 'audit lock µs/create', 'audit lock µs/decision', 'readAudit after (ms)'];
console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
