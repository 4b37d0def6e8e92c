import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSqliteCheckpointer } from './sqlite-checkpointer.js';

const directories: string[] = [];
function walDatabase(): { db: Database.Database; file: string } {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-checkpoint-'));
  directories.push(directory);
  const file = join(directory, 'store.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE rows (body TEXT NOT NULL)');
  return { db, file };
}
/** ~4 MB of rows in 40 commits: past SQLite's 1,000-page inline threshold several times over. */
function write(db: Database.Database): void {
  const insert = db.prepare('INSERT INTO rows (body) VALUES (?)');
  const commit = db.transaction(() => {
    for (let index = 0; index < 25; index += 1) insert.run('x'.repeat(4_000));
  });
  for (let index = 0; index < 40; index += 1) commit();
}

afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe('createSqliteCheckpointer', () => {
  it('leaves checkpoints to the writer until creates arrive in a burst', async () => {
    const { db, file } = walDatabase();
    const checkpointer = createSqliteCheckpointer(db, file);
    checkpointer.committed(1);
    checkpointer.committed(50);
    expect(checkpointer.running).toBe(false);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    await checkpointer.stop();
    db.close();
  });

  it('copies committed pages into the database file from its own thread during a burst, while the writer never checkpoints', async () => {
    const { db, file } = walDatabase();
    const checkpointer = createSqliteCheckpointer(db, file);
    checkpointer.committed(150);
    checkpointer.committed(50);
    expect(checkpointer.running).toBe(true);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(file).size;
    write(db);
    // Only a checkpoint writes pages into the main file: the worker did, the writer was told not to.
    await expect.poll(() => statSync(file).size, { timeout: 5_000 }).toBeGreaterThan(before + 3_000_000);
    await checkpointer.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    expect(db.prepare('SELECT count(*) AS count FROM rows').get()).toEqual({ count: 1_000 });
    db.close();
  });

  it('stops the worker after a quiet spell and hands checkpoints back to the writer', async () => {
    const { db, file } = walDatabase();
    const checkpointer = createSqliteCheckpointer(db, file, { idleStopMs: 100 });
    checkpointer.committed(200);
    expect(checkpointer.running).toBe(true);
    await expect.poll(() => checkpointer.running, { timeout: 5_000 }).toBe(false);
    await expect.poll(() => db.pragma('wal_autocheckpoint', { simple: true }), { timeout: 5_000 }).toBe(1_000);
    await checkpointer.stop();
    db.close();
  });

  it('hands checkpoints back to the writer when the worker fails, and starts no other, so the WAL never grows unchecked', async () => {
    const { db, file } = walDatabase();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    // The worker opens the database with fileMustExist: a path that is not there makes it fail at once.
    const checkpointer = createSqliteCheckpointer(db, join(file, 'missing.db'));
    checkpointer.committed(200);
    await expect.poll(() => db.pragma('wal_autocheckpoint', { simple: true }), { timeout: 5_000 }).toBe(1_000);
    expect(errors.mock.calls.map((call) => String(call[0])).join('\n')).toMatch(/checkpoint worker failed .*checkpointing on the main thread/);
    checkpointer.committed(200);
    expect(checkpointer.running).toBe(false);
    write(db);
    expect(statSync(file).size).toBeGreaterThan(3_000_000);
    await checkpointer.stop();
    db.close();
  });

  it('stays inline when no worker can start (the driver cannot be found from a bundle), and creates go on', async () => {
    const { db, file } = walDatabase();
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const checkpointer = createSqliteCheckpointer(db, file, {
      resolveDriver: () => {
        throw new Error("Cannot find module 'better-sqlite3'");
      },
    });
    expect(() => checkpointer.committed(200)).not.toThrow();
    expect(checkpointer.running).toBe(false);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1_000);
    expect(errors.mock.calls.map((call) => String(call[0])).join('\n')).toMatch(/could not start .*Cannot find module/);
    await checkpointer.stop();
    db.close();
  });
});
