/**
 * What the attention checks cost on create: requests stored with `createRequest` (no checks), with
 * `createRequestChecked` de-duplicating, and de-duplicating under an escalation budget, in
 * interleaved rounds of one run, on SQLite and (with SIGNOFF_TEST_POSTGRES_URL) PostgreSQL. Prints
 * medians of 5 rounds and each ratio to the plain create measured in the same run. Run: pnpm --filter @signoff/server exec tsx bench/create-checks.ts
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

type Mode = 'plain' | 'dedupe' | 'dedupe+budget';

/** Creates `PER_ROUND` pending requests, ten per agent key (each key stays under its budget of 20 pending, 100 an hour). */
async function round(store: Store, mode: Mode): Promise<number> {
  const started = process.hrtime.bigint();
  for (let index = 0; index < PER_ROUND; index += 1) {
    const { request: opened, events } = request(`agent-${mode}-${serial - (serial % 10)}`);
    if (mode === 'plain') await store.createRequest(opened, events);
    else {
      await store.createRequestChecked(opened, events, [], {
        now: new Date(),
        dedupe: { key: opened.argsHash, events: () => [] },
        ...(mode === 'dedupe+budget' ? { budget: { maxPending: 20, maxPerHour: 100, refusal: () => ({ events: [], outbox: [] }) } } : {}),
      });
    }
  }
  return Number(process.hrtime.bigint() - started) / 1e6 / PER_ROUND;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measure(name: string, store: Store): Promise<void> {
  const modes: Mode[] = ['plain', 'dedupe', 'dedupe+budget'];
  const times = new Map<Mode, number[]>(modes.map((mode) => [mode, []]));
  for (const mode of modes) await round(store, mode); // warm-up
  for (let index = 0; index < ROUNDS; index += 1) for (const mode of modes) times.get(mode)?.push(await round(store, mode));
  const floor = median(times.get('plain') ?? []);
  const line = modes.map((mode) => `${mode} ${median(times.get(mode) ?? []).toFixed(3)} ms (${(median(times.get(mode) ?? []) / floor).toFixed(2)}×)`).join(', ');
  console.log(`${name}, per create, median of ${ROUNDS} interleaved rounds of ${PER_ROUND}: ${line}`);
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
