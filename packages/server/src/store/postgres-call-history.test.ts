import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, it } from 'vitest';
import type { CallHistory } from './call-history.js';
import { describeCallHistoryContract } from './call-history.contract.js';
import { openPostgresCallHistory } from './postgres-call-history.js';

const url = process.env.SIGNOFF_TEST_POSTGRES_URL;
const run = randomBytes(3).toString('hex');
const schemas: string[] = [];
const schemaOf = new Map<CallHistory, string>();

if (!url) it.skip('SIGNOFF_TEST_POSTGRES_URL is not set: PostgreSQL call history tests skipped', () => undefined);
else {
  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await client.end();
  });
  describeCallHistoryContract(
    'PostgreSQL',
    async () => {
      const schema = `signoff_history_${run}_${schemas.push(`signoff_history_${run}_${schemas.length + 1}`)}`;
      const history = await openPostgresCallHistory({ connectionString: url, schema });
      schemaOf.set(history, schema);
      return history;
    },
    // Another replica: its own pool on the same tables.
    async (first) => openPostgresCallHistory({ connectionString: url, schema: schemaOf.get(first) as string }),
  );
}
