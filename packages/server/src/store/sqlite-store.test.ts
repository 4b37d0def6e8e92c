import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { LEGACY_SQLITE_SCHEMA } from '../__fixtures__/legacy-schema.js';
import { openSqliteStore } from './sqlite-store.js';
import { describeStoreContract } from './store.contract.js';
import { describeCheckedCreateContract } from './checked-create.contract.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let file = '';
let counter = 0;
const nextFile = () => ((counter += 1), (file = join(directory, `store-${counter}.db`)));

describeCheckedCreateContract('SQLite', { open: async () => openSqliteStore(nextFile()) });

describeStoreContract('SQLite', {
  async open() {
    return openSqliteStore(nextFile());
  },
  async reopen() {
    return openSqliteStore(file);
  },
  async sql(statement, params = []) {
    const db = new Database(file);
    try {
      const prepared = db.prepare(statement);
      return prepared.reader ? (prepared.all(...params) as Record<string, unknown>[]) : (prepared.run(...params), []);
    } finally {
      db.close();
    }
  },
  async createLegacy() {
    const db = new Database(nextFile());
    db.exec(LEGACY_SQLITE_SCHEMA);
    db.close();
  },
});
