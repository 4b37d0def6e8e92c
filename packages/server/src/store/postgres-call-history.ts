import type { HistoryQuery, RecordedCall } from '@signoff/core';
import pg from 'pg';
import { createKeyLocks, MAX_CALLS_PER_READ, type CallHistory } from './call-history.js';
import { pgTransaction } from './pg-transaction.js';

const DDL_LOCK = 0x5160_0003;

/**
 * The call history in PostgreSQL, shared by every replica. `serialize` takes a session advisory
 * lock per key (the first 64 bits of the key's sha256) on a dedicated connection, after an
 * in-process lock so one replica holds at most one connection per partition: a call decided on one
 * replica is recorded before another replica reads that partition for a concurrent call.
 *
 * @example
 * const history = await openPostgresCallHistory({ connectionString: 'postgres://signoff@db/signoff' });
 */
export async function openPostgresCallHistory(options: { readonly connectionString: string; readonly schema?: string; readonly poolSize?: number }): Promise<CallHistory> {
  const prefix = options.schema === undefined ? '' : `${pg.escapeIdentifier(options.schema)}.`;
  const calls = `${prefix}call_history`;
  const keysTable = `${prefix}call_history_keys`;
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.poolSize ?? 4 });
  pool.on('error', (error) => console.error(`signoff: idle PostgreSQL connection (call history) failed: ${error.message}`));
  pool.on('connect', (client) => client.on('error', () => undefined));

  const setup = await pool.connect();
  try {
    await setup.query('BEGIN');
    await setup.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
    await setup.query(`
      ${options.schema === undefined ? '' : `CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(options.schema)};`}
      CREATE TABLE IF NOT EXISTS ${calls} (id TEXT PRIMARY KEY, at BIGINT NOT NULL, tool TEXT NOT NULL, body TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS call_history_at ON ${calls} (at);
      CREATE TABLE IF NOT EXISTS ${keysTable} (key TEXT NOT NULL, at BIGINT NOT NULL, call_id TEXT NOT NULL, PRIMARY KEY (key, call_id));
      CREATE INDEX IF NOT EXISTS call_history_keys_window ON ${keysTable} (key, at);
      CREATE INDEX IF NOT EXISTS call_history_keys_call ON ${keysTable} (call_id);`);
    await setup.query('COMMIT');
  } catch (error) {
    await setup.query('ROLLBACK').catch(() => undefined);
    setup.release(true);
    await pool.end();
    throw error;
  }
  setup.release();

  const transaction = <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => pgTransaction(pool, work);
  const localLocks = createKeyLocks();
  const toRows = (rows: { body: string }[]) => rows.map((row) => JSON.parse(row.body) as RecordedCall);

  return {
    async record(entries) {
      if (entries.length === 0) return;
      await transaction(async (client) => {
        for (const { call, keys } of entries) {
          const inserted = await client.query(`INSERT INTO ${calls} (id, at, tool, body) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, [call.id, call.at, call.tool, JSON.stringify(call)]);
          if (inserted.rowCount === 0 || keys.length === 0) continue;
          await client.query(`INSERT INTO ${keysTable} (key, at, call_id) SELECT unnest($1::text[]), $2, $3 ON CONFLICT DO NOTHING`, [keys, call.at, call.id]);
        }
      });
    },
    async read({ keys, since }: HistoryQuery) {
      if (keys.length === 0) return [];
      const { rows } = await pool.query<{ body: string }>(
        `SELECT c.body FROM ${calls} c WHERE c.id IN (SELECT k.call_id FROM ${keysTable} k WHERE k.key = ANY($1::text[]) AND k.at >= $2) LIMIT $3`,
        [keys, since, MAX_CALLS_PER_READ + 1],
      );
      if (rows.length > MAX_CALLS_PER_READ) throw new Error(`more than ${MAX_CALLS_PER_READ} calls in one window`);
      return toRows(rows);
    },
    async list(since, page = {}) {
      const after = page.after ?? { at: since - 1, id: '\uffff' };
      const { rows } = await pool.query<{ body: string }>(
        `SELECT body FROM ${calls} WHERE at >= $1 AND (at, id) > ($2, $3) ORDER BY at, id LIMIT $4`,
        [since, after.at, after.id, page.limit ?? 1_000],
      );
      return toRows(rows);
    },
    async index(entries) {
      if (entries.length === 0) return;
      await transaction(async (client) => {
        for (const { id, at, keys } of entries) {
          if (keys.length > 0) await client.query(`INSERT INTO ${keysTable} (key, at, call_id) SELECT unnest($1::text[]), $2, $3 ON CONFLICT DO NOTHING`, [keys, at, id]);
        }
      });
    },
    async prune(before) {
      return transaction(async (client) => {
        await client.query(`DELETE FROM ${keysTable} WHERE at < $1`, [before]);
        return (await client.query(`DELETE FROM ${calls} WHERE at < $1`, [before])).rowCount ?? 0;
      });
    },
    serialize<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
      const sorted = [...new Set(keys)].sort();
      if (sorted.length === 0) return work();
      return localLocks(sorted, async () => {
        const client = await pool.connect();
        let broken = false;
        try {
          // Sorted, so two replicas locking overlapping keys cannot deadlock.
          for (const key of sorted) await client.query(`SELECT pg_advisory_lock(('x' || substr($1, 1, 16))::bit(64)::bigint)`, [key]);
          return await work();
        } finally {
          // Unlocking can fail only on a dead connection, whose locks PostgreSQL has already dropped.
          broken = await client.query('SELECT pg_advisory_unlock_all()').then(() => false, () => true);
          client.release(broken);
        }
      });
    },
    async close() {
      await pool.end();
    },
  };
}
