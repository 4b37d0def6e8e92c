import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** How often the checkpointer copies committed WAL frames into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;
/** SQLite's own default, restored on the writer's connection if the checkpointer stops unasked. */
const INLINE_AUTOCHECKPOINT_PAGES = 1_000;
/** The WAL file is cut back to this after a checkpoint has copied all of it (it otherwise keeps its largest size). */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

// Runs in the worker thread (evaluated as CommonJS, so it needs no file of its own next to a bundle):
// its own connection to the database, a PASSIVE checkpoint every interval — it copies what is
// committed and never waits for, or blocks, the writer — until told to stop.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
db.pragma('journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}');
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)');
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

export interface SqliteCheckpointer {
  /** Stops the worker after a last checkpoint; the writer's connection checkpoints inline again. */
  stop(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the writer's thread. SQLite otherwise checkpoints inside the commit
 * that crosses 1,000 WAL pages: copying pages into the database file and two `fsync`s while every
 * request waits (a third of the time of a create burst here). A worker thread with its own
 * connection checkpoints instead, and the writer's connection stops doing it; if the worker fails
 * or exits, the writer checkpoints inline again, so the WAL never grows unchecked. Durability is
 * unchanged: a commit is in the WAL when it returns, and a checkpoint only copies committed pages.
 *
 * @example
 * const checkpointer = startSqliteCheckpointer(db, './signoff.db');
 * await checkpointer.stop(); // before db.close()
 */
export function startSqliteCheckpointer(db: Database.Database, file: string): SqliteCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, intervalMs: CHECKPOINT_INTERVAL_MS } });
  worker.unref();
  let stopping = false;
  const checkpointInline = (why: string): void => {
    if (stopping || !db.open) return;
    console.error(`signoff: SQLite checkpoint worker ${why}; checkpointing on the main thread`);
    db.pragma(`wal_autocheckpoint = ${INLINE_AUTOCHECKPOINT_PAGES}`);
  };
  db.pragma('wal_autocheckpoint = 0');
  worker.on('error', (error) => checkpointInline(`failed (${error.message})`));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      if (code !== 0) checkpointInline(`exited with code ${code}`);
      resolve();
    }),
  );
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      // Held by the event loop while it stops: an unref'd worker would let a process that awaits this exit first.
      worker.ref();
      worker.postMessage('stop');
      await exited;
      if (db.open) db.pragma(`wal_autocheckpoint = ${INLINE_AUTOCHECKPOINT_PAGES}`);
    },
  };
}
