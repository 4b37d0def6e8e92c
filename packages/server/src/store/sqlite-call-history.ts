import type { HistoryQuery, RecordedCall } from '@signoff/core';
import Database from 'better-sqlite3';
import { createKeyLocks, MAX_CALLS_PER_READ, type CallHistory } from './call-history.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS call_history (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  tool TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS call_history_at ON call_history (at);
CREATE TABLE IF NOT EXISTS call_history_keys (
  key TEXT NOT NULL,
  at INTEGER NOT NULL,
  call_id TEXT NOT NULL,
  PRIMARY KEY (key, call_id)
);
CREATE INDEX IF NOT EXISTS call_history_keys_window ON call_history_keys (key, at);
CREATE INDEX IF NOT EXISTS call_history_keys_call ON call_history_keys (call_id);
`;

/**
 * The call history in the SQLite file of the embedded store, on a connection of its own (WAL lets
 * it read while the store writes). One server per file, so the key locks are in-process.
 *
 * @example
 * const history = openSqliteCallHistory('./signoff.db');
 */
export function openSqliteCallHistory(file: string): CallHistory {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  const insertCall = db.prepare('INSERT OR IGNORE INTO call_history (id, at, tool, body) VALUES (?, ?, ?, ?)');
  const insertKey = db.prepare('INSERT OR IGNORE INTO call_history_keys (key, at, call_id) VALUES (?, ?, ?)');
  const record = db.transaction((calls: Parameters<CallHistory['record']>[0]) => {
    for (const { call, keys } of calls) {
      if (insertCall.run(call.id, call.at, call.tool, JSON.stringify(call)).changes === 0) continue;
      for (const key of keys) insertKey.run(key, call.at, call.id);
    }
  });
  const index = db.transaction((entries: Parameters<CallHistory['index']>[0]) => {
    for (const { id, at, keys } of entries) for (const key of keys) insertKey.run(key, at, id);
  });
  const prune = db.transaction((before: number) => {
    db.prepare('DELETE FROM call_history_keys WHERE at < ?').run(before);
    return db.prepare('DELETE FROM call_history WHERE at < ?').run(before).changes;
  });

  return {
    async record(calls) {
      record(calls);
    },
    async read({ keys, since }: HistoryQuery) {
      if (keys.length === 0) return [];
      const rows = db
        .prepare(
          `SELECT DISTINCT c.body FROM call_history_keys k JOIN call_history c ON c.id = k.call_id
           WHERE k.key IN (${keys.map(() => '?').join(', ')}) AND k.at >= ? LIMIT ?`,
        )
        .all(...keys, since, MAX_CALLS_PER_READ + 1) as { body: string }[];
      if (rows.length > MAX_CALLS_PER_READ) throw new Error(`more than ${MAX_CALLS_PER_READ} calls in one window`);
      return rows.map((row) => JSON.parse(row.body) as RecordedCall);
    },
    async list(since, page = {}) {
      const after = page.after ?? { at: since - 1, id: '\uffff' };
      const rows = db
        .prepare('SELECT body FROM call_history WHERE at >= ? AND (at > ? OR (at = ? AND id > ?)) ORDER BY at, id LIMIT ?')
        .all(since, after.at, after.at, after.id, page.limit ?? 1_000) as { body: string }[];
      return rows.map((row) => JSON.parse(row.body) as RecordedCall);
    },
    async index(entries) {
      index(entries);
    },
    async prune(before) {
      return prune(before);
    },
    serialize: createKeyLocks(),
    async close() {
      db.close();
    },
  };
}
