import type { ApprovalRequest } from '@signoff/core';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { legacyPostgresSchema } from '../__fixtures__/legacy-schema.js';
import { verifyAuditChain } from '../audit/audit-chain.js';
import { openPostgresStore } from './postgres-store.js';
import type { Store } from './store.js';
import { describeCheckedCreateContract } from './checked-create.contract.js';
import { describeActionableContract } from './actionable.contract.js';
import { describeStoreContract, newRequest, type StoreFactory } from './store.contract.js';

const url = process.env.SIGNOFF_TEST_POSTGRES_URL;
const run = randomBytes(3).toString('hex');
const schemas: string[] = [];

/** A fresh, empty schema name; every one is dropped after the run. */
function freshSchema(): string {
  const schema = `signoff_test_${run}_${schemas.length + 1}`;
  schemas.push(schema);
  return schema;
}

async function withClient<T>(connectionString: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

if (!url) {
  console.warn('SIGNOFF_TEST_POSTGRES_URL is not set: PostgreSQL store tests skipped');
  it.skip('SIGNOFF_TEST_POSTGRES_URL is not set: PostgreSQL store tests skipped', () => undefined);
}

describe.skipIf(!url)('PostgreSQL store', () => {
  const connectionString = url ?? '';
  afterAll(async () => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await client.end();
  });

  describeCheckedCreateContract('PostgreSQL', { open: async () => openPostgresStore({ connectionString, schema: freshSchema() }) });

  let schema = '';
  const factory: StoreFactory = {
    entryColumn: 'audit_entry',
    async open() {
      schema = freshSchema();
      return openPostgresStore({ connectionString, schema });
    },
    async reopen() {
      return openPostgresStore({ connectionString, schema });
    },
    async sql(statement, params = []) {
      let index = 0;
      return withClient(connectionString, async (client) => {
        await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
        return (await client.query(statement.replace(/\?/g, () => `$${(index += 1)}`), [...params])).rows as Record<string, unknown>[];
      });
    },
    async createLegacy() {
      schema = freshSchema();
      await withClient(connectionString, (client) => client.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}; ${legacyPostgresSchema(`${pg.escapeIdentifier(schema)}.`)}`));
    },
  };
  describeStoreContract('PostgreSQL', factory);
  describeActionableContract('PostgreSQL', factory, { seeded: 2_000 });

  it('fails only the create PostgreSQL refuses when creates arrive together (the batch is retried one by one)', async () => {
    const store = await openPostgresStore({ connectionString, schema: freshSchema() });
    try {
      const opened = ['apr_batch_00001', 'apr_batch_00002', 'apr_batch_00003', 'apr_batch_00004'].map((id) => newRequest(id));
      // A deadline PostgreSQL cannot read as a time fails the one statement the four would share.
      const unreadable = opened[2] as (typeof opened)[number];
      const broken = { ...unreadable, request: { ...unreadable.request, expiresAt: 'not a time' } };
      const outcomes = await Promise.allSettled([opened[0], opened[1], broken, opened[3]].map((item) => store.createRequestChecked(item!.request, item!.events, [], { now: new Date() })));
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/not a time/);
      for (const index of [0, 1, 3]) expect((await store.getRequest(opened[index]!.request.id))?.status).toBe('pending');
      expect(await store.getRequest('apr_batch_00003')).toBeUndefined();
      expect(verifyAuditChain(await store.readAudit())).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('lets creates sent together commit and chains them when it closes at once', async () => {
    const schema = freshSchema();
    const store = await openPostgresStore({ connectionString, schema });
    const opened = Array.from({ length: 20 }, (_, index) => newRequest(`apr_closing_${String(index).padStart(4, '0')}`));
    const creating = opened.map(({ request, events }) => store.createRequestChecked(request, events, [], { now: new Date() }));
    await store.close();
    expect((await Promise.all(creating)).map((outcome) => outcome.kind)).toEqual(opened.map(() => 'created'));
    // Chained before close returned: nothing left for another replica or the next start.
    const unsequenced = await withClient(connectionString, async (client) => (await client.query(`SELECT count(*)::int AS count FROM ${pg.escapeIdentifier(schema)}.audit_log WHERE sequence IS NULL`)).rows[0]?.count);
    expect(unsequenced).toBe(0);
    const reopened = await openPostgresStore({ connectionString, schema });
    try {
      expect((await reopened.readAudit()).filter((entry) => entry.type === 'request.created')).toHaveLength(opened.length);
    } finally {
      await reopened.close();
    }
  });

  describe('with two replicas on one database', () => {
    let replicaA: Store;
    let replicaB: Store;
    beforeEach(async () => {
      const shared = freshSchema();
      // Opened together, as replicas starting at once would: table creation must not race.
      [replicaA, replicaB] = await Promise.all([openPostgresStore({ connectionString, schema: shared }), openPostgresStore({ connectionString, schema: shared })]);
    });
    afterEach(async () => {
      await Promise.all([replicaA.close(), replicaB.close()]);
    });

    it('wakes a listener on one replica when another changes the request', async () => {
      const seen: string[] = [];
      replicaA.onRequestChanged((id) => seen.push(id));
      const { request, events } = newRequest('apr_cross');
      await replicaB.createRequest(request, events);
      await replicaB.updateRequest('apr_cross', (current) => ({ request: { ...current, status: 'denied' }, events: [], result: null }));
      await expect.poll(() => seen.filter((id) => id === 'apr_cross').length).toBe(2);
    });

    it('tells the other replica of every request it created, many at once (announced after commit, several per NOTIFY)', async () => {
      const heard = new Set<string>();
      replicaA.onRequestChanged((id) => heard.add(id));
      const created = Array.from({ length: 450 }, (_, index) => newRequest(`apr_heard_${String(index).padStart(4, '0')}`));
      await Promise.all(created.map(({ request, events }) => replicaB.createRequestChecked(request, events, [], { now: new Date() })));
      await expect.poll(() => created.filter(({ request }) => heard.has(request.id)).length).toBe(created.length);
    });

    it('lets exactly one of 50 decisions split across replicas make the transition, with one unbroken audit chain', async () => {
      const { request, events } = newRequest('apr_race');
      await replicaA.createRequest(request, events);
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          (index % 2 ? replicaA : replicaB).updateRequest('apr_race', (current) =>
            current.status === 'pending'
              ? {
                  request: { ...current, status: 'approved', granted: true },
                  events: [{ type: 'request.approved', requestId: 'apr_race', actor: `reviewer-${index}`, channel: 'api', detail: {} }],
                  result: 'transitioned',
                }
              : { events: [{ type: 'decision.refused', requestId: 'apr_race', actor: `reviewer-${index}`, channel: 'api', detail: { code: 'ALREADY_RESOLVED' } }], result: 'refused' },
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === 'transitioned')).toHaveLength(1);
      const audit = await replicaB.readAudit();
      expect(audit).toHaveLength(events.length + 50);
      expect(audit.filter((entry) => entry.type === 'request.approved')).toHaveLength(1);
      expect(verifyAuditChain(audit)).toBeUndefined();
    });

    it('shares the sweep: each of 20 overdue requests expires exactly once', async () => {
      const start = new Date('2026-11-24T06:00:00.000Z');
      for (let index = 0; index < 20; index += 1) {
        const { request, events } = newRequest(`apr_due_${index}`, { now: start });
        await (index % 2 ? replicaA : replicaB).createRequest(request, events);
      }
      const expire = (current: ApprovalRequest) => ({
        request: { ...current, status: 'expired' as const },
        events: [{ type: 'request.expired' as const, requestId: current.id, actor: 'system', channel: 'system' as const, detail: {} }],
        result: null,
      });
      const afterDeadline = new Date(start.getTime() + 11 * 60_000);
      const counts = await Promise.all([replicaA.updateOverdue(afterDeadline, 100, expire), replicaB.updateOverdue(afterDeadline, 100, expire)]);
      expect(counts[0] + counts[1]).toBe(20);
      expect(await replicaA.listRequests({ status: 'expired' })).toHaveLength(20);
      const audit = await replicaA.readAudit();
      const expired = audit.filter((entry) => entry.type === 'request.expired').map((entry) => entry.requestId);
      expect(new Set(expired).size).toBe(20);
      expect(expired).toHaveLength(20);
      expect(verifyAuditChain(audit)).toBeUndefined();
    });
  });
});
