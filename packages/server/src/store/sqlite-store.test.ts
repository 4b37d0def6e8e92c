import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LEGACY_SQLITE_SCHEMA } from '../__fixtures__/legacy-schema.js';
import { openSqliteStore, sqliteActionableSql } from './sqlite-store.js';
import { describeCheckedCreateContract } from './checked-create.contract.js';
import { describeActionableContract } from './actionable.contract.js';
import { describeStoreContract, type StoreFactory } from './store.contract.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let file = '';
let counter = 0;
const nextFile = () => ((counter += 1), (file = join(directory, `store-${counter}.db`)));

describeCheckedCreateContract('SQLite', { open: async () => openSqliteStore(nextFile()) });

const factory: StoreFactory = {
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
};

describeStoreContract('SQLite', factory);
describeActionableContract('SQLite', factory, { seeded: 2_000 });

describe('SQLite query plans', () => {
  it('lists one status newest first by walking an index in order, not by sorting every request of that status', async () => {
    const store = openSqliteStore(nextFile());
    await store.close();
    const db = new Database(file);
    try {
      const plan = (db.prepare("EXPLAIN QUERY PLAN SELECT r.id FROM approval_requests r WHERE r.status = ? ORDER BY r.created_at DESC, r.id DESC LIMIT 50").all('pending') as { detail: string }[]).map((row) => row.detail);
      expect(plan.join('\n')).toContain('approval_requests_status_created');
      expect(plan.join('\n')).not.toContain('TEMP B-TREE');
    } finally {
      db.close();
    }
  });

  it("chooses a reviewer's page by walking each role's covering index in list order, then reads only the page's rows by id", async () => {
    // A fresh database has no statistics (nothing runs ANALYZE): the plan must not depend on them.
    const store = openSqliteStore(nextFile());
    await store.close();
    const db = new Database(file);
    try {
      for (const [order, index] of [['newest', 'request_roles_newest'], ['deadline', 'request_roles_deadline']] as const) {
        const { sql, values } = sqliteActionableSql({ reviewer: 'ana', roles: ['finance', 'security'], ownedRequesters: ['agent-1'], now: new Date(), order, limit: 50 });
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values) as { detail: string }[]).map((row) => row.detail);
        // One walk per role (finance, security, and * for "any reviewer"), each stopping at the page.
        expect(plan.filter((detail) => detail.startsWith(`SEARCH x USING COVERING INDEX ${index} (role=?`))).toHaveLength(3);
        expect(plan).toContain('SEARCH d USING PRIMARY KEY (request_id=? AND reviewer=?)');
        // Requests and audit entries are looked up for the page's rows, never scanned.
        expect(plan.some((detail) => /^SEARCH r USING .*\(id=\?\)$/.test(detail))).toBe(true);
        expect(plan.filter((detail) => /^SCAN (r|a|l|x|d)\b/.test(detail))).toEqual([]);
      }
    } finally {
      db.close();
    }
  });
});
