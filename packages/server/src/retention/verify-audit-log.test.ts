import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApprovalRequest } from '@signoff/core';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashRequestState } from '../audit/hash-request-state.js';
import { openPostgresStore } from '../store/postgres-store.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { newRequest } from '../store/store.contract.js';
import type { Store } from '../store/store.js';
import { archiveResolved } from './archive-resolved.js';
import { verifyAuditLog } from './verify-audit-log.js';

const DAY = 86_400_000;
const NOW = new Date('2026-12-01T00:00:00.000Z');
const postgresUrl = process.env.SIGNOFF_TEST_POSTGRES_URL;
const directory = mkdtempSync(join(tmpdir(), 'signoff-verify-'));
const schemas: string[] = [];
afterAll(async () => {
  rmSync(directory, { recursive: true, force: true });
  if (!postgresUrl) return;
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await client.end();
});

/** A store, and SQL run on its database behind its back (`?` placeholders); `pointAt` sets the entry a row names, by chain sequence. */
interface Tamperable {
  readonly store: Store;
  sql(statement: string, ...params: unknown[]): Promise<void>;
  pointAt(id: string, sequence: number): Promise<void>;
}

const stores = [
  {
    name: 'SQLite',
    skip: false,
    open: async (): Promise<Tamperable> => {
      const file = join(directory, `${randomBytes(4).toString('hex')}.db`);
      const sql = async (statement: string, ...params: unknown[]) => {
        const db = new Database(file);
        db.prepare(statement).run(...params);
        db.close();
      };
      return { store: openSqliteStore(file), sql, pointAt: (id, sequence) => sql('UPDATE approval_requests SET audit_sequence = ? WHERE id = ?', sequence, id) };
    },
  },
  {
    name: 'PostgreSQL',
    skip: !postgresUrl,
    open: async (): Promise<Tamperable> => {
      const schema = `signoff_verify_${randomBytes(3).toString('hex')}`;
      schemas.push(schema);
      const sql = async (statement: string, ...params: unknown[]) => {
        const client = new pg.Client({ connectionString: postgresUrl });
        await client.connect();
        await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
        let n = 0;
        await client.query(statement.replace(/\?/g, () => `$${(n += 1)}`), params);
        await client.end();
      };
      return {
        store: await openPostgresStore({ connectionString: postgresUrl ?? '', schema }),
        sql,
        pointAt: (id, sequence) => sql('UPDATE approval_requests SET audit_entry = (SELECT id FROM audit_log WHERE sequence = ?) WHERE id = ?', sequence, id),
      };
    },
  },
];

const denial = (current: ApprovalRequest) => ({
  request: { ...current, status: 'denied' as const, resolvedAt: NOW.toISOString() },
  events: [{ type: 'request.denied' as const, requestId: current.id, actor: 'ana', channel: 'api' as const, detail: {} }],
  result: undefined,
});

describe.each(stores)('audit verify on $name', ({ skip, open }) => {
  let subject: Tamperable;
  beforeEach(async () => {
    subject = await open();
  });
  afterEach(async () => subject?.store.close());

  it.skipIf(skip)('names each request whose row and log disagree, and only those', async () => {
    const { store, sql, pointAt } = subject;
    const ids = ['apr_body', 'apr_hash', 'apr_rolled', 'apr_deleted', 'apr_fine'];
    await store.createRequests(ids.map((id) => newRequest(id)));
    await store.appendAudit([{ type: 'decision.refused', requestId: 'apr_ghost', actor: 'agent', detail: {} }]); // names an id, logs no state
    for (const id of ids) await store.updateRequest(id, denial);
    const audit = await store.readAudit();
    const newest = (id: string) => audit.filter((entry) => entry.requestId === id && entry.stateHash).at(-1)?.sequence;
    const logged = (id: string) => audit.find((entry) => entry.sequence === newest(id))?.stateHash?.slice(0, 12);
    const created = (id: string) => audit.find((entry) => entry.requestId === id)?.sequence as number;
    expect((await verifyAuditLog({ store })).problems).toEqual([]);

    const other = { ...newRequest('apr_body').request, status: 'approved' };
    await sql('UPDATE approval_requests SET body = ? WHERE id = ?', JSON.stringify(other), 'apr_body');
    await sql('UPDATE approval_requests SET state_hash = ? WHERE id = ?', hashRequestState(other), 'apr_hash');
    const asCreated = newRequest('apr_rolled').request;
    await sql('UPDATE approval_requests SET body = ?, state_hash = ?, status = ? WHERE id = ?', JSON.stringify(asCreated), hashRequestState(asCreated), 'pending', 'apr_rolled');
    await pointAt('apr_rolled', created('apr_rolled'));
    await sql('DELETE FROM approval_requests WHERE id = ?', 'apr_deleted');
    const outside = { ...newRequest('apr_outside').request };
    await sql(
      'INSERT INTO approval_requests (id, requester, status, tool, created_at, expires_at, body, state_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      'apr_outside', 'agent-1', 'pending', 'payment.send', outside.createdAt, outside.expiresAt, JSON.stringify(outside), hashRequestState(outside),
    );

    const report = await verifyAuditLog({ store });
    expect(report.liveRequests).toBe(5);
    expect([...report.problems].sort()).toEqual(
      [
        `request apr_body does not match the audit log: the row body is not the state logged last, at entry #${newest('apr_body')}`,
        `request apr_hash does not match the audit log: the row's state_hash ${hashRequestState(other).slice(0, 12)}… is not the logged ${logged('apr_hash')}…`,
        `request apr_rolled does not match the audit log: the row body is not the state logged last, at entry #${newest('apr_rolled')}; ` +
          `the row's state_hash ${hashRequestState(asCreated).slice(0, 12)}… is not the logged ${logged('apr_rolled')}…; ` +
          `the row points at entry #${created('apr_rolled')}, but its newest logged state is #${newest('apr_rolled')}`,
        `request apr_deleted does not match the audit log: the log holds states of this request (newest at entry #${newest('apr_deleted')}) but it has no row: the row was deleted`,
        'request apr_outside does not match the audit log: no audit event produced this row (inserted outside Signoff, or its events were deleted)',
      ].sort(),
    );
  });

  it.skipIf(skip)('names log index columns changed behind the log, and still compares their requests by the hashed bodies', async () => {
    const { store, sql, pointAt } = subject;
    const ids = ['apr_hidden', 'apr_moved', 'apr_intact'];
    await store.createRequests(ids.map((id) => newRequest(id)));
    for (const id of ids) await store.updateRequest(id, denial);
    const audit = await store.readAudit();
    const stateEntries = (id: string) => audit.filter((entry) => entry.requestId === id && entry.stateHash);
    const [hiddenCreated, hiddenDenied] = stateEntries('apr_hidden');
    const movedDenied = stateEntries('apr_moved').at(-1);
    // The denial's index row no longer says it is a state (reads would take the creation for newest), and the row is rolled back to it.
    await sql('UPDATE audit_log SET state_hash = NULL WHERE sequence = ?', hiddenDenied?.sequence);
    const asCreated = newRequest('apr_hidden').request;
    await sql('UPDATE approval_requests SET body = ?, state_hash = ?, status = ? WHERE id = ?', JSON.stringify(asCreated), hashRequestState(asCreated), 'pending', 'apr_hidden');
    await pointAt('apr_hidden', hiddenCreated?.sequence as number);
    // Another request's denial filed under a made-up id, and its row deleted.
    await sql('UPDATE audit_log SET request_id = ? WHERE sequence = ?', 'apr_elsewhere', movedDenied?.sequence);
    await sql('DELETE FROM approval_requests WHERE id = ?', 'apr_moved');

    const columns = (sequence: number | undefined) => `audit entry #${sequence}: its request_id/state_hash columns (which reads of a request look up) differ from its body: changed outside Signoff`;
    const report = await verifyAuditLog({ store });
    expect([...report.problems].sort()).toEqual(
      [
        columns(hiddenDenied?.sequence),
        columns(movedDenied?.sequence),
        `request apr_hidden does not match the audit log: the row body is not the state logged last, at entry #${hiddenDenied?.sequence}; ` +
          `the row's state_hash ${hashRequestState(asCreated).slice(0, 12)}… is not the logged ${hiddenDenied?.stateHash?.slice(0, 12)}…; ` +
          `the row points at entry #${hiddenCreated?.sequence}, but its newest logged state is #${hiddenDenied?.sequence}`,
        `request apr_moved does not match the audit log: the log holds states of this request (newest at entry #${movedDenied?.sequence}) but it has no row: the row was deleted`,
      ].sort(),
    );
  });

  it.skipIf(skip)('compares a live row whose older states were archived, and names it once its row is gone', async () => {
    const { store, sql } = subject;
    const old = newRequest('apr_old', { now: new Date(NOW.getTime() - 100 * DAY) });
    await store.createRequests([{ request: { ...old.request, status: 'denied', resolvedAt: new Date(NOW.getTime() - 99 * DAY).toISOString() }, events: old.events }]);
    // Created before the archived range ends, resolved after it: its first state is archived, its row and newest state stay.
    await store.createRequests([newRequest('apr_span', { now: new Date(NOW.getTime() - 90 * DAY) }), newRequest('apr_gone', { now: new Date(NOW.getTime() - 90 * DAY) })]);
    await store.updateRequest('apr_span', denial);
    await store.updateRequest('apr_gone', denial);
    const archive = join(directory, `archive-${randomBytes(3).toString('hex')}`);
    expect(await archiveResolved({ store, directory: archive, resolvedAfterMs: 30 * DAY, now: NOW })).toMatchObject({ from: 1, to: 3, requests: 1 });
    expect((await verifyAuditLog({ store, archiveDirectory: archive })).problems).toEqual([]);

    await sql('DELETE FROM approval_requests WHERE id = ?', 'apr_gone');
    const gone = (await store.readAudit()).filter((entry) => entry.requestId === 'apr_gone').at(-1)?.sequence;
    expect((await verifyAuditLog({ store, archiveDirectory: archive })).problems).toEqual([
      `request apr_gone does not match the audit log: the log holds states of this request (newest at entry #${gone}) but it has no row: the row was deleted`,
    ]);
  });
});
