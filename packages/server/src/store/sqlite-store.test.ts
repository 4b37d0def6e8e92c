import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteStore } from './sqlite-store.js';
import { describeStoreContract } from './store.contract.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let file = '';
let counter = 0;

describeStoreContract('SQLite', {
  async open() {
    counter += 1;
    file = join(directory, `store-${counter}.db`);
    return openSqliteStore(file);
  },
  async reopen() {
    return openSqliteStore(file);
  },
});
