import type pg from 'pg';

export interface PgTransactionOptions {
  /** The statement that opens it: `BEGIN`, or `BEGIN` followed by statements of its own in the same round trip (no parameters). */
  readonly begin?: string;
  /** After `COMMIT`, with the connection the work ran on (before it returns to the pool). */
  readonly committed?: (client: pg.PoolClient) => void;
  /** After the work or the commit threw, before `ROLLBACK`. */
  readonly failed?: (client: pg.PoolClient) => void;
}

/**
 * Runs `work` in one transaction on one pooled connection; rolls back on any exception and rethrows
 * it. A connection whose `ROLLBACK` fails is discarded, not pooled.
 *
 * @example
 * const id = await pgTransaction(pool, async (client) => (await client.query('INSERT … RETURNING id')).rows[0].id);
 */
export async function pgTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, options: PgTransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(options.begin ?? 'BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    options.committed?.(client);
    return result;
  } catch (error) {
    options.failed?.(client);
    broken = await client.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    throw error;
  } finally {
    client.release(broken);
  }
}
