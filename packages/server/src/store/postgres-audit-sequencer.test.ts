import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createSignoff, type ApprovalRequest } from '@signoff/core';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killHard, spawnServer } from '../__fixtures__/server-process.js';
import { sha256Hex } from '../config/server-config.js';
import { hashRequestState } from '../audit/hash-request-state.js';
import { verifyAuditLog } from '../retention/verify-audit-log.js';
import { openPostgresStore } from './postgres-store.js';
import { newRequest } from './store.contract.js';
import type { Store } from './store.js';

// PostgreSQL writers log audit entries unsequenced, without a lock shared between them; a
// sequencer (whichever replica holds the audit lock for a batch) chains them after commit. These
// tests hold it to what the single-lock design proved: one chain, no gaps, no forks, every request
// row bound to its entry — across replicas, writers that die mid-transaction, and sequencers that
// die mid-batch. See docs/audit-log.md.

const url = process.env.SIGNOFF_TEST_POSTGRES_URL;
const run = randomBytes(3).toString('hex');
const schemas: string[] = [];
const stores: Store[] = [];
let child: ChildProcess | undefined;
const directory = mkdtempSync(join(tmpdir(), 'signoff-sequencer-'));
const AUDIT_LOCK = 0x5160_0002;

function freshSchema(): string {
  const schema = `signoff_seq_${run}_${schemas.length + 1}`;
  schemas.push(schema);
  return schema;
}

async function open(schema: string): Promise<Store> {
  const store = await openPostgresStore({ connectionString: url ?? '', schema });
  stores.push(store);
  return store;
}

async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(schema: string, statement: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
    return (await client.query<T>(statement, values)).rows;
  } finally {
    await client.end();
  }
}

const deny = (current: ApprovalRequest) => ({
  request: { ...current, status: 'denied' as const, granted: false },
  events: [{ type: 'request.denied' as const, requestId: current.id, actor: 'ana', channel: 'api' as const, detail: {} }],
  result: null,
});

describe.skipIf(!url)('PostgreSQL audit sequencer', () => {
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    if (child) await killHard(child);
    child = undefined;
  });
  afterAll(async () => {
    rmSync(directory, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await client.end();
  });

  it('chains the writes of two replicas writing at once into one log: no gaps, no forks, every row bound, verify passes', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    const replicas = [a, b] as Store[];
    const ids = Array.from({ length: 120 }, (_, index) => `apr_seq${String(index).padStart(4, '0')}`);
    // Creates, decisions on earlier requests and audit-only events interleaved on both replicas.
    const write = (id: string, index: number) =>
      (async () => {
        const replica = replicas[index % 2] as Store;
        const { request, events } = newRequest(id);
        await replica.createRequest(request, events);
        await (replicas[(index + 1) % 2] as Store).updateRequest(id, deny);
        if (index % 10 === 0) await replica.appendAudit([{ type: 'access.refused', actor: 'unknown', channel: 'api', detail: { n: index } }]);
      })();
    // Half while the sequencers keep up, half while one is slow (an outside session holds the audit
    // lock): then whole requests' histories wait in one batch and their order is the sequencer's to keep.
    await Promise.all(ids.slice(0, 60).map(write));
    const slow = new pg.Client({ connectionString: url });
    await slow.connect();
    await slow.query('BEGIN');
    await slow.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [AUDIT_LOCK, schema]);
    await Promise.all(ids.slice(60).map((id, index) => write(id, index + 60)));
    expect((await sql(schema, 'SELECT id FROM audit_log WHERE sequence IS NULL')).length).toBe(60 * 2 + 6);
    await slow.query('COMMIT');
    await slow.end();

    const audit = await b.readAudit();
    expect(audit.map((entry) => entry.sequence)).toEqual(Array.from({ length: 120 * 2 + 12 }, (_, index) => index + 1));
    // Each request's created entry precedes its denial, whichever replica wrote either.
    for (const id of ids) {
      const types = audit.filter((entry) => entry.requestId === id).map((entry) => entry.type);
      expect(types).toEqual(['request.created', 'request.denied']);
    }
    const report = await verifyAuditLog({ store: a });
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ verified: audit.length, liveRequests: 120 });
    expect(await sql(schema, 'SELECT id FROM audit_log WHERE sequence IS NULL')).toEqual([]);
    expect(await a.readAuditHead()).toEqual({ sequence: audit.length, hash: audit.at(-1)?.hash, at: audit.at(-1)?.at });
  });

  it('never sequences what a writer killed mid-transaction logged, and does not wait for it', async () => {
    const schema = freshSchema();
    const store = await open(schema);
    const { request, events } = newRequest('apr_before');
    await store.createRequest(request, events);

    // A writer's transaction, as the store writes it, left open: then its connection dies (kill -9).
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    writer.on('error', () => undefined);
    await writer.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
    await writer.query('BEGIN');
    const doomed = newRequest('apr_doomed');
    await writer.query(
      `INSERT INTO approval_requests (id, requester, status, tool, created_at, expires_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [doomed.request.id, doomed.request.requester, doomed.request.status, doomed.request.tool, doomed.request.createdAt, doomed.request.expiresAt, JSON.stringify(doomed.request)],
    );
    await writer.query(`INSERT INTO audit_log (body, request_id, logged_at) VALUES ($1, $2, clock_timestamp())`, [JSON.stringify(doomed.events[0]), 'apr_doomed']);
    const { rows } = await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');

    // Writes after it are sequenced while it is open (the sequencer takes only what is committed).
    await store.createRequest(newRequest('apr_after').request, newRequest('apr_after').events);
    expect((await store.readAudit()).map((entry) => entry.requestId)).toEqual(['apr_before', 'apr_after']);

    await sql(schema, 'SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    await store.appendAudit([{ type: 'access.refused', actor: 'unknown', channel: 'api', detail: {} }]);
    const audit = await store.readAudit();
    expect(audit.map((entry) => entry.sequence)).toEqual([1, 2, 3]);
    expect(audit.some((entry) => entry.requestId === 'apr_doomed')).toBe(false);
    expect(await store.getRequest('apr_doomed')).toBeUndefined();
    expect((await verifyAuditLog({ store })).problems).toEqual([]);
  });

  it('hands sequencing over when a sequencer dies mid-batch: its half-written batch rolls back and the next one chains it all', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    await a.createRequest(newRequest('apr_one').request, newRequest('apr_one').events);
    await a.readAudit(); // #1 sequenced

    // A sequencer takes the lock and writes half a batch, then dies before it commits.
    const sequencer = new pg.Client({ connectionString: url });
    await sequencer.connect();
    sequencer.on('error', () => undefined);
    await sequencer.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
    await sequencer.query('BEGIN');
    await sequencer.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [AUDIT_LOCK, schema]);
    const { rows } = await sequencer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // Writers are not held up by it: writes commit on both replicas while it holds the lock.
    await b.createRequest(newRequest('apr_two').request, newRequest('apr_two').events);
    await a.updateRequest('apr_two', deny);
    await sequencer.query(`UPDATE audit_log SET sequence = 2, hash = 'half' WHERE id = (SELECT min(id) FROM audit_log WHERE sequence IS NULL)`);

    // A reader waits for the log to be sequenced; the dead sequencer's lock goes with its connection.
    const reading = b.readAudit();
    await sql(schema, 'SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    const audit = await reading;
    expect(audit.map((entry) => [entry.sequence, entry.type, entry.requestId])).toEqual([
      [1, 'request.created', 'apr_one'],
      [2, 'request.created', 'apr_two'],
      [3, 'request.denied', 'apr_two'],
    ]);
    expect((await verifyAuditLog({ store: a })).problems).toEqual([]);
  });

  it('refuses a row flipped together with its chained entry rewritten to match (hash stripped to pass as not yet sequenced)', async () => {
    const schema = freshSchema();
    const store = await open(schema);
    await store.createRequest(newRequest('apr_flip').request, newRequest('apr_flip').events);
    await store.updateRequest('apr_flip', deny);
    await store.readAudit(); // chained
    const [row] = await sql<{ body: string; audit_entry: string }>(schema, "SELECT body, audit_entry FROM approval_requests WHERE id = 'apr_flip'");
    const forged = { ...JSON.parse(row?.body ?? '{}'), status: 'approved', granted: true };
    const [entry] = await sql<{ body: string }>(schema, 'SELECT body FROM audit_log WHERE id = $1', [row?.audit_entry]);
    const { hash: _hash, ...unsealed } = JSON.parse(entry?.body ?? '{}') as Record<string, unknown>;
    await sql(schema, "UPDATE approval_requests SET status = 'approved', body = $1, state_hash = $2 WHERE id = 'apr_flip'", [JSON.stringify(forged), hashRequestState(forged)]);
    await sql(schema, 'UPDATE audit_log SET body = $1, state_hash = $2 WHERE id = $3', [JSON.stringify({ ...unsealed, stateHash: hashRequestState(forged) }), hashRequestState(forged), row?.audit_entry]);

    await expect(store.getRequest('apr_flip')).rejects.toThrow(/was modified/);
    await expect(store.updateRequest('apr_flip', deny)).rejects.toThrow(/was modified/);
    expect((await verifyAuditLog({ store })).problems.join('\n')).toMatch(/BROKEN at entry #2/);
  });

  it('upgrades a database written before the sequencer (migration 0004): its chain continues and its rows stay bound', async () => {
    const schema = freshSchema();
    const before = await open(schema);
    for (const id of ['apr_m1', 'apr_m2']) await before.createRequest(newRequest(id).request, newRequest(id).events);
    await before.updateRequest('apr_m1', deny);
    await before.appendAudit([{ type: 'access.refused', actor: 'unknown', channel: 'api', detail: {} }]);
    const written = await before.readAudit();
    await before.close();
    // Back to the tables as 0003 left them: entries keyed by sequence and all sealed, rows bound by sequence.
    await sql(
      schema,
      `UPDATE approval_requests r SET audit_sequence = a.sequence FROM audit_log a WHERE a.id = r.audit_entry;
       ALTER TABLE approval_requests DROP COLUMN audit_entry;
       DROP TABLE audit_head;
       DROP INDEX audit_log_sequence, audit_log_unsequenced, audit_log_request_entry;
       ALTER TABLE audit_log DROP COLUMN id, DROP COLUMN logged_at, ALTER COLUMN hash SET NOT NULL, ADD PRIMARY KEY (sequence);
       CREATE INDEX audit_log_request ON audit_log (request_id, sequence);
       DELETE FROM signoff_migrations WHERE name = '0004-audit-sequencer';`,
    );
    const columns = "SELECT table_name || '.' || column_name AS name FROM information_schema.columns WHERE table_schema = $1 AND table_name IN ('audit_log', 'approval_requests') AND column_name IN ('id', 'audit_entry', 'logged_at')";
    expect(await sql(schema, columns, [schema])).toEqual([{ name: 'approval_requests.id' }]);

    const [a, b] = await Promise.all([open(schema), open(schema)]);
    expect(await a.getRequest('apr_m1')).toMatchObject({ status: 'denied' });
    await b.updateRequest('apr_m2', deny);
    await a.createRequest(newRequest('apr_m3').request, newRequest('apr_m3').events);
    const audit = await b.readAudit();
    expect(audit.slice(0, written.length)).toEqual(written);
    expect(audit.map((entry) => entry.sequence)).toEqual(Array.from({ length: written.length + 2 }, (_, index) => index + 1));
    expect((await verifyAuditLog({ store: a })).problems).toEqual([]);
  });

  it('sequences, on another replica, every create acknowledged by a replica killed with -9 mid-burst', async () => {
    const schema = freshSchema();
    const agentKey = `sk_agent_${randomUUID()}`;
    writeFileSync(join(directory, 'policy.yaml'), 'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate }\n');
    writeFileSync(
      join(directory, 'signoff.yaml'),
      [
        'policy: ./policy.yaml',
        `store: "${url}${url?.includes('?') ? '&' : '?'}schema=${schema}"`,
        'listen: 127.0.0.1:0',
        'reviewers: [{ id: ana, name: Ana }]',
        'api_keys:',
        `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(agentKey)}" }`,
      ].join('\n'),
    );
    const server = await spawnServer(join(directory, 'signoff.yaml'));
    child = server.child;
    const signoff = createSignoff({ policy: 'version: 1\ndefault: deny\nrules:\n  - { tool: payment.send, action: escalate }\n', controlPlane: { url: server.url, apiKey: agentKey, maxAttempts: 1 } });
    const acknowledged: string[] = [];
    const creates = Array.from({ length: 200 }, (_, index) =>
      signoff.requestApproval(signoff.guard('payment.send', { n: index }), { idempotencyKey: `burst:${index}` }).then((request) => void acknowledged.push(request.id), () => undefined),
    );
    await expect.poll(() => acknowledged.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(20);
    await killHard(server.child);
    await Promise.all(creates);

    // The other replica, started after: it chains what the dead one committed, acknowledged or not.
    const other = await open(schema);
    const audit = await other.readAudit();
    const created = new Set(audit.filter((entry) => entry.type === 'request.created').map((entry) => entry.requestId));
    for (const id of acknowledged) {
      expect(created.has(id)).toBe(true);
      expect(await other.getRequest(id)).toMatchObject({ id, status: 'pending' });
    }
    expect(await sql(schema, 'SELECT id FROM audit_log WHERE sequence IS NULL')).toEqual([]);
    const report = await verifyAuditLog({ store: other });
    expect(report.problems).toEqual([]);
    expect(report.liveRequests).toBe(created.size);
  }, 60_000);
});
