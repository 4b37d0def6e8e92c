/**
 * What the attention checks cost on create: the same requests stored with `createRequest` (no
 * checks) and with `createRequestChecked` (de-duplication + an escalation budget), interleaved in
 * one run, on SQLite and (with SIGNOFF_TEST_POSTGRES_URL) PostgreSQL. Prints medians of 5 rounds
 * and the ratio checked / plain. Run: pnpm --filter @signoff/server exec tsx bench/create-checks.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGuard, parsePolicy } from '@signoff/core';
import { openApprovalRequest } from '../src/engine/open-approval-request.js';
import { openPostgresStore } from '../src/store/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';

const guard = createGuard(parsePolicy('rules: [{ tool: "**", action: escalate }]'));
const PER_ROUND = Number(process.env.BENCH_CREATES ?? 500);
const ROUNDS = 5;
let serial = 0;

function request(requester: string) {
  serial += 1;
  const args = { to: 'acme', amount: serial };
  return openApprovalRequest({ tool: 'payment.send', args, idempotencyKey: `k-${serial}` }, { id: `apr_bench_${String(serial).padStart(10, '0')}`, requester, now: new Date(), decision: guard('payment.send', args), defaultTimeoutMs: 3_600_000 });
}

async function round(store: Store, checked: boolean): Promise<number> {
  const requester = `agent-${checked ? 'c' : 'p'}-${serial}`;
  const started = process.hrtime.bigint();
  for (let index = 0; index < PER_ROUND; index += 1) {
    const { request: opened, events } = request(requester);
    if (checked) {
      await store.createRequestChecked(opened, events, [], {
        now: new Date(),
        dedupe: { key: opened.argsHash, events: () => [] },
        budget: { maxPending: 1_000_000, maxPerHour: 1_000_000, refusal: () => ({ events: [], outbox: [] }) },
      });
    } else await store.createRequest(opened, events);
  }
  return Number(process.hrtime.bigint() - started) / 1e6 / PER_ROUND;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measure(name: string, store: Store): Promise<void> {
  const plain: number[] = [];
  const checked: number[] = [];
  await round(store, false); // warm-up
  await round(store, true);
  for (let index = 0; index < ROUNDS; index += 1) {
    plain.push(await round(store, false));
    checked.push(await round(store, true));
  }
  const [p, c] = [median(plain), median(checked)];
  console.log(`${name}: plain create ${p.toFixed(3)} ms, checked create ${c.toFixed(3)} ms (median of ${ROUNDS} rounds of ${PER_ROUND}); ratio ${(c / p).toFixed(2)}×`);
  await store.close();
}

const directory = mkdtempSync(join(tmpdir(), 'signoff-bench-checks-'));
try {
  await measure('SQLite', openSqliteStore(join(directory, 'bench.db')));
  const url = process.env.SIGNOFF_TEST_POSTGRES_URL;
  if (url) {
    const schema = `bench_checks_${process.pid}`;
    await measure('PostgreSQL', await openPostgresStore({ connectionString: url, schema }));
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
