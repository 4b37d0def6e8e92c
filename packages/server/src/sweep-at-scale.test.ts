import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { readAuditPages } from './audit/audit-chain.js';
import { startLocalControlPlane, type LocalControlPlane } from './local-control-plane.js';
import { openPostgresStore } from './store/postgres-store.js';
import { newRequest } from './store/store.contract.js';

const BURST = 10_000;
const postgresUrl = process.env.SIGNOFF_TEST_POSTGRES_URL;
const policy = 'rules: [{ tool: "**", action: escalate, metadata: { approval_timeout_minutes: 10 } }]';

/** How each store is set up, and how its outbox is counted with plain SQL (the dispatcher may have claimed some). */
const stores = [
  {
    name: 'SQLite',
    skip: false,
    async open() {
      return { store: undefined, countOutbox: (directory: string) => (new Database(join(directory, 'signoff.db'), { readonly: true }).prepare("SELECT count(*) AS n FROM outbox WHERE topic = 'approval.resolved'").get() as { n: number }).n, drop: async () => undefined };
    },
  },
  {
    name: 'PostgreSQL',
    skip: !postgresUrl,
    async open() {
      const schema = `signoff_sweep_${randomBytes(3).toString('hex')}`;
      const connectionString = postgresUrl ?? '';
      const withClient = async <T>(work: (client: pg.Client) => Promise<T>) => {
        const client = new pg.Client({ connectionString });
        await client.connect();
        try {
          return await work(client);
        } finally {
          await client.end();
        }
      };
      return {
        store: await openPostgresStore({ connectionString, schema }),
        countOutbox: async () => withClient(async (client) => Number((await client.query(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(schema)}.outbox WHERE topic = 'approval.resolved'`)).rows[0].n)),
        drop: () => withClient((client) => client.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`)),
      };
    },
  },
];

describe.each(stores)('sweeping a burst of $name', ({ skip, open }) => {
  let controlPlane: LocalControlPlane | undefined;
  let drop: () => Promise<unknown> = async () => undefined;
  afterEach(async () => {
    await controlPlane?.close();
    await drop();
  }, 60_000);

  it.skipIf(skip)(`expires ${BURST.toLocaleString('en-US')} overdue requests each exactly once, in batches, with their audit entries and deliveries, while the API answers`, async () => {
    const opened = await open();
    drop = opened.drop;
    controlPlane = await startLocalControlPlane({
      policy,
      sweepIntervalSeconds: 3_600, // this test runs the sweep itself
      webhooks: { secret: `whsec_${randomBytes(24).toString('base64')}`, endpoints: ['http://127.0.0.1:9/hook'], firstRetrySeconds: 3_600 },
      ...(opened.store ? { store: opened.store } : {}),
    });
    const { service, store } = controlPlane;
    // The deliveries stay queued (counted below), not sent to an endpoint that is not there.
    await controlPlane.dispatcher.stop();
    const anHourAgo = new Date(Date.now() - 3_600_000);
    const due = Array.from({ length: BURST }, (_, index) => newRequest(`apr_burst${String(index).padStart(6, '0')}`, { now: anHourAgo }));
    for (let start = 0; start < BURST; start += 2_000) await store.createRequests(due.slice(start, start + 2_000));
    const waiting = newRequest('apr_notdue00001', { now: new Date() });
    await store.createRequest(waiting.request, waiting.events);

    let batches = 0;
    let expiredSoFar = 0;
    const sweep = service.sweep({
      batchSize: 250,
      onBatch: (expired) => {
        batches += 1;
        expiredSoFar += expired;
      },
    });
    const joined = service.sweep(); // a second sweep asked for meanwhile joins the first: nothing twice
    // An API call made after the sweep started is answered before it ends: the sweep yields between batches.
    const response = await fetch(`${controlPlane.url}/v1/approvals/apr_notdue00001`, { headers: { authorization: `Bearer ${controlPlane.reviewerKey('ana')}` } });
    const answeredAfter = expiredSoFar;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe('pending');
    expect(await sweep).toBe(BURST);
    expect(await joined).toBe(BURST);
    expect(answeredAfter).toBeLessThan(BURST);
    expect(batches).toBeGreaterThanOrEqual(BURST / 250);

    expect(await service.sweep()).toBe(0);
    const expiredEvents: string[] = [];
    for await (const entry of readAuditPages(store)) if (entry.type === 'request.expired') expiredEvents.push(entry.requestId ?? '');
    expect(expiredEvents).toHaveLength(BURST);
    expect(new Set(expiredEvents).size).toBe(BURST);
    expect(await opened.countOutbox(controlPlane.directory)).toBe(BURST);
    expect((await store.listRequests({ status: 'expired', limit: 1 }))[0]?.status).toBe('expired');
    expect((await store.getRequest('apr_notdue00001'))?.status).toBe('pending');
  }, 300_000);
});
