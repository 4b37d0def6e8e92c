import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** How often the worker copies committed WAL frames into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;
/** SQLite's own default: the writer checkpoints inline whenever no worker does. */
const INLINE_AUTOCHECKPOINT_PAGES = 1_000;
/** The WAL file is cut back to this after a checkpoint has copied all of it (it otherwise keeps its largest size). */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** Creates committed within one second that start the worker: below this, inline checkpoints cost little. */
const BURST_CREATES_PER_SECOND = 200;
/** A worker left this long without a burst stops (a worker thread holds ~10–16 MB). */
const DEFAULT_IDLE_STOP_MS = 60_000;

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

export interface SqliteCheckpointerOptions {
  /** How long a worker may go without a burst of creates before it stops (default 60 s). */
  readonly idleStopMs?: number;
  /** Where the worker loads better-sqlite3 from (default: resolved from this module). */
  readonly resolveDriver?: () => string;
}

export interface SqliteCheckpointer {
  /** Tells it a group commit of this many creates succeeded: a burst starts the worker. */
  committed(creates: number): void;
  /** Whether a worker is checkpointing now (the writer is not). */
  readonly running: boolean;
  /** Stops the worker after a last checkpoint; the writer checkpoints inline again. */
  stop(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the writer's thread while creates arrive in bursts. SQLite otherwise
 * checkpoints inside the commit that crosses 1,000 WAL pages: copying pages into the database file
 * and two `fsync`s while every request waits (a third of the time of a create burst here). From
 * the first second with {@link BURST_CREATES_PER_SECOND} creates, a worker thread with its own
 * connection checkpoints instead and the writer's connection stops doing it; after a quiet spell
 * the worker stops and the writer checkpoints inline again (a worker thread's memory is paid only
 * under load). If the worker fails, the writer takes over at once and no worker starts again, so
 * the WAL never grows unchecked. Durability is unchanged: a commit is in the WAL when it returns,
 * and a checkpoint only copies committed pages.
 *
 * @example
 * const checkpointer = createSqliteCheckpointer(db, './signoff.db');
 * checkpointer.committed(batch.length); // after each group commit
 * await checkpointer.stop(); // before db.close()
 */
export function createSqliteCheckpointer(db: Database.Database, file: string, options: SqliteCheckpointerOptions = {}): SqliteCheckpointer {
  const idleStopMs = options.idleStopMs ?? DEFAULT_IDLE_STOP_MS;
  let worker: { readonly thread: Worker; readonly exited: Promise<void>; stopping: boolean } | undefined;
  let broken = false;
  let closed = false;
  let windowStart = 0;
  let windowCreates = 0;
  let lastBurst = 0;

  const checkpointInline = (): void => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${INLINE_AUTOCHECKPOINT_PAGES}`);
  };
  /** No worker now or later: the writer checkpoints inline, so the WAL never grows unchecked. */
  const giveUp = (why: string): void => {
    if (broken) return;
    broken = true;
    worker = undefined;
    console.error(`signoff: SQLite checkpoint worker ${why}; checkpointing on the main thread`);
    checkpointInline();
  };
  const start = (): void => {
    const driver = (options.resolveDriver ?? (() => createRequire(import.meta.url).resolve('better-sqlite3')))();
    const thread = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file, intervalMs: CHECKPOINT_INTERVAL_MS } });
    thread.unref();
    const failed = (why: string): void => {
      if (!running?.stopping) giveUp(why);
    };
    thread.on('error', (error) => failed(`failed (${error.message})`));
    const exited = new Promise<void>((resolve) =>
      thread.once('exit', (code) => {
        if (code !== 0) failed(`exited with code ${code}`);
        resolve();
      }),
    );
    const running = { thread, exited, stopping: false };
    worker = running;
    db.pragma('wal_autocheckpoint = 0');
  };
  const stopWorker = async (): Promise<void> => {
    const running = worker;
    if (!running) return;
    worker = undefined;
    running.stopping = true;
    // Held by the event loop while it stops: an unref'd worker would let a process that awaits this exit first.
    running.thread.ref();
    running.thread.postMessage('stop');
    await running.exited;
    checkpointInline();
  };
  const idleCheck = setInterval(() => {
    if (worker && Date.now() - lastBurst >= idleStopMs) void stopWorker();
  }, Math.max(10, idleStopMs / 4));
  idleCheck.unref();

  return {
    committed(creates) {
      const now = Date.now();
      if (now - windowStart >= 1_000) {
        windowStart = now;
        windowCreates = 0;
      }
      windowCreates += creates;
      if (windowCreates < BURST_CREATES_PER_SECOND) return;
      lastBurst = now;
      if (worker || broken || closed) return;
      try {
        start();
      } catch (error) {
        // The driver cannot be found from here (a bundle without node_modules) or no thread can start.
        giveUp(`could not start (${error instanceof Error ? error.message : String(error)})`);
      }
    },
    get running() {
      return worker !== undefined;
    },
    async stop() {
      closed = true;
      clearInterval(idleCheck);
      await stopWorker();
    },
  };
}
