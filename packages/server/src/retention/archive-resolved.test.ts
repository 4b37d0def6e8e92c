import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApprovalRequest } from '@signoff/core';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../store/postgres-store.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { newRequest } from '../store/store.contract.js';
import type { Store } from '../store/store.js';
import { archiveResolved } from './archive-resolved.js';
import { verifyAuditLog } from './verify-audit-log.js';

const DAY = 86_400_000;
const NOW = new Date('2026-12-01T00:00:00.000Z');
const postgresUrl = process.env.SIGNOFF_TEST_POSTGRES_URL;
const directory = mkdtempSync(join(tmpdir(), 'signoff-retention-'));
const schemas: string[] = [];
afterAll(async () => {
  rmSync(directory, { recursive: true, force: true });
  if (!postgresUrl) return;
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await client.end();
});

/** `open` makes a new database; `replica` opens a second store on the database `open` made last (another server). */
const stores = (() => {
  let file = '';
  let schema = '';
  return [
    {
      name: 'SQLite',
      skip: false,
      open: async (): Promise<Store> => openSqliteStore((file = join(directory, `${randomBytes(4).toString('hex')}.db`))),
      replica: async (): Promise<Store> => openSqliteStore(file),
    },
    {
      name: 'PostgreSQL',
      skip: !postgresUrl,
      open: async (): Promise<Store> => {
        schema = `signoff_retention_${randomBytes(3).toString('hex')}`;
        schemas.push(schema);
        return openPostgresStore({ connectionString: postgresUrl ?? '', schema });
      },
      replica: async (): Promise<Store> => openPostgresStore({ connectionString: postgresUrl ?? '', schema }),
    },
  ];
})();

/** A request created `daysAgo` and, unless pending, resolved an hour later. */
function made(id: string, daysAgo: number, status: ApprovalRequest['status'], extra: Partial<ApprovalRequest> = {}) {
  const createdAt = new Date(NOW.getTime() - daysAgo * DAY);
  const { request, events } = newRequest(id, { now: createdAt });
  const resolved = status === 'pending' ? {} : { resolvedAt: new Date(createdAt.getTime() + 3_600_000).toISOString(), granted: status === 'approved' || status === 'executed' };
  return { request: { ...request, status, ...resolved, ...extra }, events };
}

describe.each(stores)('retention on $name', ({ skip, open, replica }) => {
  let store: Store;
  let archive: string;
  beforeEach(async () => {
    store = await open();
    archive = mkdtempSync(join(directory, 'archive-'));
  });
  afterEach(async () => store?.close());

  /** Old resolved requests, one old pending one (that pins the log), recent ones; then a decision on the old pending one. */
  async function seed() {
    const old = Array.from({ length: 40 }, (_, index) => made(`apr_old${String(index).padStart(8, '0')}`, 100 - index, (['denied', 'expired', 'executed', 'approved'] as const)[index % 4] ?? 'denied'));
    await store.createRequests(old.slice(0, 30));
    // Created long ago and still pending: its state event pins everything after it.
    const lingering = made('apr_lingering01', 70, 'pending');
    await store.createRequest(lingering.request, lingering.events);
    await store.createRequests(old.slice(30));
    await store.createRequests(Array.from({ length: 5 }, (_, index) => made(`apr_recent${String(index).padStart(6, '0')}`, 2, 'denied')));
    await store.appendAudit([{ type: 'access.refused', actor: 'unknown', channel: 'api', detail: { reason: 'bad API key' } }]);
    return { old, lingering };
  }

  it.skipIf(skip)('moves old resolved requests and their audit segment to a file, and verifies across the boundary', async () => {
    const { old } = await seed();
    const first = await archiveResolved({ store, directory: archive, resolvedAfterMs: 30 * DAY, now: NOW });
    // Everything before the lingering request's state entry: the first 30 old requests.
    expect(first).toMatchObject({ from: 1, requests: 30 });
    expect(await store.getRequest('apr_old00000000')).toBeUndefined();
    expect((await store.getRequest('apr_old00000032'))?.status).toBe('denied');
    expect((await store.getRequest('apr_lingering01'))?.status).toBe('pending');
    expect((await store.readAudit()).at(-1)).toMatchObject({ type: 'retention.archived', detail: { file: first?.file, sha256: first?.sha256, from: 1, to: first?.to, requests: 30 } });

    const report = await verifyAuditLog({ store, archiveDirectory: archive });
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ archivedRequests: 30, archiveFiles: [first?.file], leftovers: [] });
    expect(report.verified).toBe((report.head?.sequence ?? 0));
    expect((await verifyAuditLog({ store })).problems).toEqual([expect.stringContaining(`the hot log starts at entry #${(first?.to ?? 0) + 1}`)]);

    // The lingering one resolves; 60 days later the rest go, in a second file continuing the first.
    await store.updateRequest('apr_lingering01', (current) => ({ request: { ...current, status: 'denied', resolvedAt: NOW.toISOString() }, events: [{ type: 'request.denied', requestId: current.id, actor: 'ana', channel: 'api', detail: {} }], result: undefined }));
    const second = await archiveResolved({ store, directory: archive, resolvedAfterMs: 30 * DAY, now: new Date(NOW.getTime() + 60 * DAY) });
    expect(second).toMatchObject({ from: (first?.to ?? 0) + 1, requests: old.length - 30 + 5 + 1 });
    const again = await verifyAuditLog({ store, archiveDirectory: archive });
    expect(again.problems).toEqual([]);
    expect(again.archivedRequests).toBe(old.length + 5 + 1);
    expect(again.liveRequests).toBe(0);
    expect(await archiveResolved({ store, directory: archive, resolvedAfterMs: 30 * DAY, now: new Date(NOW.getTime() + 60 * DAY) })).toBeUndefined();

    // An edited archive, or a missing one, is reported.
    const path = join(archive, first?.file as string);
    const text = readFileSync(path, 'utf8');
    const edited = text.replace('\\"status\\":\\"denied\\"', '\\"status\\":\\"approved\\"');
    expect(edited).not.toBe(text);
    writeFileSync(path, edited);
    expect((await verifyAuditLog({ store, archiveDirectory: archive })).problems.join('\n')).toMatch(/archived request apr_old\w+ .* does not match|changed after it was written/);
    rmSync(path);
    expect((await verifyAuditLog({ store, archiveDirectory: archive })).problems.join('\n')).toContain('holds no archive files continuing it from entry 1');
  });

  it.skipIf(skip)('keeps a request whose grant can still be used, and a crash between file and commit loses nothing and doubles nothing', async () => {
    // Approved 40 days ago with a 60-day grant: still usable, so it stays (and pins the log after it).
    const grant = made('apr_grant000001', 40, 'approved');
    await store.createRequests([made('apr_gone0000001', 50, 'denied'), { ...grant, request: { ...grant.request, requirements: { ...grant.request.requirements, grantTtlMs: 60 * DAY } } }, made('apr_gone0000002', 45, 'expired')]);
    // A run stops after its file is on disk, before its commit (the process dies in between).
    const crashing: Store = { ...store, commitArchive: async () => Promise.reject(new Error('killed')) };
    await expect(archiveResolved({ store: crashing, directory: archive, resolvedAfterMs: 30 * DAY, now: NOW })).rejects.toThrow('killed');
    expect(readdirSync(archive)).toHaveLength(1);
    expect((await store.getRequest('apr_gone0000001'))?.status).toBe('denied');
    const afterCrash = await verifyAuditLog({ store, archiveDirectory: archive });
    expect(afterCrash.problems).toEqual([]);
    expect(afterCrash.leftovers).toHaveLength(1);

    const result = await archiveResolved({ store, directory: archive, resolvedAfterMs: 30 * DAY, now: NOW });
    expect(result).toMatchObject({ from: 1, requests: 1 });
    expect(readdirSync(archive)).toEqual([result?.file]); // the leftover was replaced, not kept beside it
    expect((await store.getRequest('apr_grant000001'))?.status).toBe('approved');
    expect((await store.getRequest('apr_gone0000002'))?.status).toBe('expired'); // after the grant's entry: stays for now
    const report = await verifyAuditLog({ store, archiveDirectory: archive });
    expect(report.problems).toEqual([]);
    expect(report.archivedRequests + report.liveRequests).toBe(3);
  });

  it.skipIf(skip)('replicas take turns under a lease, a pass archives at most maxRequests, and each request is archived once', async () => {
    const other = await replica();
    try {
      const old = Array.from({ length: 120 }, (_, index) => made(`apr_many${String(index).padStart(7, '0')}`, 100 - index / 10, (['denied', 'expired', 'executed'] as const)[index % 3] ?? 'denied'));
      await store.createRequests(old);
      const options = { directory: archive, resolvedAfterMs: 30 * DAY, now: NOW, maxRequests: 50 };

      // While another replica holds the lease, a run archives nothing.
      expect(await other.acquireLease({ name: 'retention', holder: 'replica-b', ttlMs: 60_000 })).toBe(true);
      expect(await store.acquireLease({ name: 'retention', holder: 'replica-a', ttlMs: 60_000 })).toBe(false);
      expect(await archiveResolved({ ...options, store })).toBeUndefined();
      expect(await store.getRequest('apr_many0000000')).toBeDefined();
      expect(readdirSync(archive)).toEqual([]);
      await other.releaseLease('retention', 'replica-b');

      // Both replicas run retention side by side until nothing is left to archive.
      const cutoff = new Date(NOW.getTime() - 30 * DAY);
      const drain = async (replicaStore: Store) => {
        const runs = [];
        for (let attempt = 0; attempt < 500 && (await replicaStore.planArchive(cutoff)) !== undefined; attempt += 1) {
          const run = await archiveResolved({ ...options, store: replicaStore });
          if (run) runs.push(run);
          else await new Promise((resolve) => setTimeout(resolve, 2));
        }
        return runs;
      };
      const runs = (await Promise.all([drain(store), drain(other)])).flat();
      expect(runs.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...runs.map((run) => run.requests))).toBeLessThanOrEqual(50);
      const archivedIds = readdirSync(archive).flatMap((name) =>
        readFileSync(join(archive, name), 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { request?: { id: string } })
          .flatMap((line) => (line.request ? [line.request.id] : [])),
      );
      expect(archivedIds.sort()).toEqual(old.map((item) => item.request.id).sort());
      const report = await verifyAuditLog({ store: other, archiveDirectory: archive });
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({ archivedRequests: 120, liveRequests: 0, leftovers: [] });
    } finally {
      await other.close();
    }
  });

  it.skipIf(skip)('a run whose lease another replica took over before it committed changes nothing', async () => {
    const other = await replica();
    try {
      await store.createRequests([made('apr_fenced00001', 50, 'denied'), made('apr_fenced00002', 49, 'expired')]);
      // The run's lease lapses after its file is written, and another replica takes it before the commit.
      const slow: Store = {
        ...store,
        commitArchive: async (...args) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          expect(await other.acquireLease({ name: 'retention', holder: 'replica-b', ttlMs: 60_000 })).toBe(true);
          return store.commitArchive(...args);
        },
      };
      expect(await archiveResolved({ store: slow, directory: archive, resolvedAfterMs: 30 * DAY, now: NOW, leaseMs: 5 })).toBeUndefined();
      expect((await store.getRequest('apr_fenced00001'))?.status).toBe('denied');
      expect(readdirSync(archive)).toEqual([]);
      expect((await verifyAuditLog({ store, archiveDirectory: archive })).problems).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
