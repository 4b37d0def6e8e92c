import { EventEmitter } from 'node:events';
import type { ApprovalRequest } from '@signoff/core';
import { SignoffError } from '@signoff/core';
import Database from 'better-sqlite3';
import { GENESIS_HASH, sealAuditEntry } from '../audit/audit-chain.js';
import type { AuditEntry, AuditEventInput } from '../audit/audit-event.js';
import { actionableCountSql, actionableIndexOf, actionableSql, keepUntil } from './actionable-index.js';
import { adoptionEvent, bindRequestState } from './bind-request-state.js';
import { digestUnclaimed, dueAtOf, fromOutboxRow, newOutboxId, toOutboxColumns, type OutboxRow } from './outbox-row.js';
import type { OutboxMessageInput } from './outbox-message.js';
import { requestFromJson, requestToJson } from './request-json.js';
import { checkedRequest, checkRequestRowColumns, checkRequestRows, selectRequestRows, toIndexedEntry, toStoredRequestState, withNewestState, type IndexedRow, type RequestRow, type RowWithNewest } from './request-row.js';
import { isoInstant } from './iso-instant.js';
import { createSqliteCheckpointer } from './sqlite-checkpointer.js';
import { stateTampered } from './state-tampered.js';
import { overBudget } from './over-budget.js';
import { BUDGET_NOTICE_QUIET_MS, type ActionableQuery, type ApprovalFilter, type BudgetExceeded, type CheckedCreation, type CreateChecks, type RequestChange, type Store } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS approval_requests (
  id TEXT PRIMARY KEY,
  requester TEXT NOT NULL,
  idempotency_key TEXT,
  status TEXT NOT NULL,
  tool TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  body TEXT NOT NULL,
  audit_sequence INTEGER,
  state_hash TEXT,
  UNIQUE (requester, idempotency_key)
);
CREATE INDEX IF NOT EXISTS approval_requests_due ON approval_requests (status, expires_at);
CREATE INDEX IF NOT EXISTS approval_requests_created ON approval_requests (created_at);
CREATE TABLE IF NOT EXISTS outbox (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  topic TEXT NOT NULL,
  request_id TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_error TEXT,
  payload TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS audit_log (
  sequence INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  body TEXT NOT NULL,
  request_id TEXT,
  state_hash TEXT
);
CREATE TABLE IF NOT EXISTS ended_sessions (
  session_id TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL
);
`;

/** Columns added after the first release; a database created before gets them when opened. */
const ADDED_COLUMNS = [
  ['approval_requests', 'audit_sequence', 'INTEGER'],
  ['approval_requests', 'state_hash', 'TEXT'],
  ['audit_log', 'request_id', 'TEXT'],
  ['audit_log', 'state_hash', 'TEXT'],
  ['outbox', 'payload', 'TEXT'],
  ['approval_requests', 'dedupe_key', 'TEXT'],
  ['approval_requests', 'escalated', 'INTEGER'],
] as const;

/**
 * What budgets and de-duplication need (after the columns exist): one pending request per
 * (requester, de-duplication key) — `dedupe_key` is set only on requests opened pending through
 * the checked create —, idempotency keys folded into another request, and each agent's budget breaches.
 */
const ATTENTION_SCHEMA = `
CREATE UNIQUE INDEX IF NOT EXISTS approval_requests_one_pending ON approval_requests (requester, dedupe_key) WHERE status = 'pending' AND dedupe_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS approval_requests_requester ON approval_requests (requester, created_at);
CREATE INDEX IF NOT EXISTS approval_requests_requester_pending ON approval_requests (requester, status, expires_at);
CREATE TABLE IF NOT EXISTS request_aliases (
  requester TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_id TEXT NOT NULL,
  PRIMARY KEY (requester, idempotency_key)
);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_one_digest ON outbox (channel, target, payload) WHERE topic = 'email.digest';
CREATE TABLE IF NOT EXISTS budget_breaches (
  requester TEXT NOT NULL,
  budget TEXT NOT NULL,
  notified_at TEXT NOT NULL,
  open INTEGER NOT NULL,
  PRIMARY KEY (requester, budget)
);
`;

/** Finds a request's state events (and its newest event) without scanning the log. */
const AUDIT_INDEX = 'CREATE INDEX IF NOT EXISTS audit_log_request ON audit_log (request_id, sequence)';

/**
 * Schema changes after state binding, each applied once, in order, in the opening transaction, and
 * recorded by name in `signoff_migrations`. Add new ones at the end with the next number.
 */
const MIGRATIONS: ReadonlyArray<{ readonly name: string; up(db: Database.Database): void }> = [
  {
    // What a reviewer may act on, as rows SQL can filter and index (pending requests only): see actionable-index.ts.
    name: '0001-actionable-index',
    up(db) {
      db.exec(`
        CREATE TABLE request_roles (
          request_id TEXT NOT NULL, role TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
          requester TEXT NOT NULL, on_behalf_of TEXT, tool TEXT NOT NULL,
          PRIMARY KEY (role, request_id)
        ) WITHOUT ROWID;
        -- Covering: a page is chosen from the index alone, without visiting the table.
        CREATE INDEX request_roles_newest ON request_roles (role, created_at, request_id, expires_at, requester, on_behalf_of, tool);
        CREATE INDEX request_roles_deadline ON request_roles (role, expires_at, request_id, created_at, requester, on_behalf_of, tool);
        CREATE INDEX request_roles_request ON request_roles (request_id);
        CREATE TABLE request_decided (request_id TEXT NOT NULL, reviewer TEXT NOT NULL, PRIMARY KEY (request_id, reviewer)) WITHOUT ROWID;
      `);
      const reindex = createActionableIndexer(db);
      for (const row of db.prepare("SELECT body FROM approval_requests WHERE status = 'pending'").all() as { body: string }[]) {
        reindex(requestFromJson(row.body));
      }
    },
  },
  {
    // When each resolved request may be archived (retention): see keepUntil in actionable-index.ts.
    name: '0002-retention',
    up(db) {
      db.exec(`
        CREATE TABLE request_retention (request_id TEXT PRIMARY KEY, keep_until TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX request_retention_due ON request_retention (keep_until);
      `);
      const insert = db.prepare('INSERT OR REPLACE INTO request_retention (request_id, keep_until) VALUES (?, ?)');
      for (const row of db.prepare("SELECT body FROM approval_requests WHERE status <> 'pending'").all() as { body: string }[]) {
        const request = requestFromJson(row.body);
        const until = keepUntil(request);
        if (until) insert.run(request.id, until);
      }
    },
  },
  {
    // `?status=pending` newest first walks this in order and stops at the page, instead of sorting every pending request.
    name: '0003-status-created-index',
    up(db) {
      db.exec('CREATE INDEX approval_requests_status_created ON approval_requests (status, created_at, id)');
    },
  },
  {
    // Retention across replicas: a lease so one archives at a time, and rows in state-entry order so a
    // run's cap (the request after `maxRequests`) is one index step, not a sort of the backlog.
    name: '0004-retention-lease',
    up(db) {
      db.exec(`
        CREATE TABLE signoff_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX approval_requests_audit_sequence ON approval_requests (audit_sequence);
      `);
    },
  },
];

/**
 * The statement and values the SQLite store runs for an actionable page: each role's index named,
 * so the plan does not hang on statistics SQLite has not gathered (see `ActionableSqlOptions`).
 *
 * @example
 * const { sql, values } = sqliteActionableSql({ reviewer: 'ana', roles: ['finance'], now: new Date() });
 */
export function sqliteActionableSql(query: ActionableQuery): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const sql = actionableSql(query, { prefix: '', param: (value) => (values.push(value), '?'), indexedBy: true });
  return { sql, values };
}

/**
 * Rewrites a request's actionable-index rows from its state, in the caller's transaction; `fresh`
 * (a request inserted in this transaction) has no rows to delete first.
 */
function createActionableIndexer(db: Database.Database): (request: ApprovalRequest, fresh?: boolean) => void {
  const deleteRoles = db.prepare('DELETE FROM request_roles WHERE request_id = ?');
  const deleteDecided = db.prepare('DELETE FROM request_decided WHERE request_id = ?');
  const insertRole = db.prepare(
    'INSERT OR IGNORE INTO request_roles (request_id, role, created_at, expires_at, requester, on_behalf_of, tool) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertDecided = db.prepare('INSERT OR IGNORE INTO request_decided (request_id, reviewer) VALUES (?, ?)');
  // Prepared lazily: the first migration runs before the retention table exists.
  let keep: Database.Statement | undefined;
  return (request, fresh = false) => {
    if (!fresh) {
      deleteRoles.run(request.id);
      deleteDecided.run(request.id);
    }
    const rows = actionableIndexOf(request);
    const until = keepUntil(request);
    if (until) (keep ??= db.prepare('INSERT OR REPLACE INTO request_retention (request_id, keep_until) VALUES (?, ?)')).run(request.id, until);
    if (!rows) return;
    for (const role of rows.roles) insertRole.run(request.id, role, request.createdAt, request.expiresAt, request.requester, request.onBehalfOf ?? null, request.tool);
    for (const reviewer of rows.decidedBy) insertDecided.run(request.id, reviewer);
  };
}

/**
 * The embedded store: one SQLite file in WAL mode (better-sqlite3). Writes are `BEGIN IMMEDIATE`
 * transactions, so writers are serialized and a read-modify-write never interleaves. Change
 * notifications are in-process: run one server per SQLite file (use PostgreSQL for replicas).
 * A database written by an earlier version is migrated when opened (see {@link Store} on binding).
 *
 * @example
 * const store = openSqliteStore('./signoff.db');
 */
export function openSqliteStore(file: string): Store {
  let db: Database.Database;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable across process crashes; an OS crash may lose the last commits
    db.pragma('busy_timeout = 5000');
    // Statement journals (kept for each statement inside the group commit's transaction that may
    // fail part-way) in memory, not temp files: as temp files, with a savepoint per create, they
    // cost ~25 page writes per create (47 pwrite calls, half its system time).
    db.pragma('temp_store = MEMORY');
  } catch (error) {
    throw new SignoffError('STORAGE_UNAVAILABLE', `cannot open the SQLite store ${file}: ${(error as Error).message}`, { cause: error });
  }
  const changes = new EventEmitter().setMaxListeners(0);

  let appendEvents: (events: readonly AuditEventInput[]) => AuditEntry[];
  try {
    appendEvents = db
      .transaction(() => {
        const unbound = migrateSchema(db);
        const append = createAuditAppender(db);
        if (unbound) bindFoundRows(db, append);
        runMigrations(db);
        return append;
      })
      .immediate();
  } catch (error) {
    db.close();
    throw new SignoffError('STORAGE_UNAVAILABLE', `cannot prepare the SQLite store ${file}: ${(error as Error).message}`, { cause: error });
  }

  // A file database checkpoints on a worker thread under bursts of creates; an in-memory one has no WAL.
  const checkpointer = file === ':memory:' ? undefined : createSqliteCheckpointer(db, file);
  const reindex = createActionableIndexer(db);
  const statements = {
    insert: db.prepare(
      `INSERT INTO approval_requests (id, requester, idempotency_key, status, tool, created_at, expires_at, body, audit_sequence, state_hash, dedupe_key, escalated)
       VALUES (@id, @requester, @idempotencyKey, @status, @tool, @createdAt, @expiresAt, @body, @auditSequence, @stateHash, @dedupeKey, @escalated)`,
    ),
    byIdempotencyKey: db.prepare(`${selectRequestRows()} WHERE r.requester = ? AND r.idempotency_key = ?`),
    byId: db.prepare(`${selectRequestRows()} WHERE r.id = ?`),
    byAlias: db.prepare(`${selectRequestRows()} JOIN request_aliases k ON k.request_id = r.id WHERE k.requester = ? AND k.idempotency_key = ?`),
    pendingTwin: db.prepare(`${selectRequestRows()} WHERE r.requester = ? AND r.dedupe_key = ? AND r.status = 'pending'`),
    forgetTwin: db.prepare('UPDATE approval_requests SET dedupe_key = NULL WHERE id = ?'),
    alias: db.prepare('INSERT OR IGNORE INTO request_aliases (requester, idempotency_key, request_id) VALUES (?, ?, ?)'),
    countPending: db.prepare("SELECT count(*) AS count FROM (SELECT 1 FROM approval_requests WHERE requester = ? AND status = 'pending' AND expires_at > ? LIMIT ?)"),
    countSince: db.prepare('SELECT count(*) AS count FROM (SELECT 1 FROM approval_requests WHERE requester = ? AND escalated = 1 AND created_at > ? LIMIT ?)'),
    breach: db.prepare('SELECT notified_at, open FROM budget_breaches WHERE requester = ? AND budget = ?'),
    noticeBreach: db.prepare('INSERT INTO budget_breaches (requester, budget, notified_at, open) VALUES (?, ?, ?, 1) ON CONFLICT (requester, budget) DO UPDATE SET notified_at = excluded.notified_at, open = 1'),
    reopenBreach: db.prepare('UPDATE budget_breaches SET open = 1 WHERE requester = ? AND budget = ?'),
    closeBreaches: db.prepare('UPDATE budget_breaches SET open = 0 WHERE requester = ?'),
    update: db.prepare(
      'UPDATE approval_requests SET status = @status, expires_at = @expiresAt, body = @body, audit_sequence = @auditSequence, state_hash = @stateHash WHERE id = @id',
    ),
    overdue: db.prepare("SELECT id FROM approval_requests WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?"),
    newestEventOf: db.prepare('SELECT body FROM audit_log WHERE request_id = ? ORDER BY sequence DESC LIMIT 1'),
    readAudit: db.prepare('SELECT body FROM audit_log ORDER BY sequence'),
    readAuditPage: db.prepare('SELECT body FROM audit_log WHERE sequence > ? ORDER BY sequence LIMIT ?'),
    readAuditIndexPage: db.prepare('SELECT body, request_id, state_hash FROM audit_log WHERE sequence > ? ORDER BY sequence LIMIT ?'),
    // Each row's newest state entry through the (request_id, sequence) index, walked down from `through`.
    statesWithNewest: db.prepare(
      `SELECT r.id, r.body, r.state_hash, r.audit_sequence, n.sequence AS newest_sequence, n.state_hash AS newest_state_hash
       FROM (SELECT id, body, state_hash, audit_sequence FROM approval_requests WHERE id > ? ORDER BY id LIMIT ?) r
       LEFT JOIN audit_log n ON n.sequence = (SELECT a.sequence FROM audit_log a WHERE a.request_id = r.id AND a.state_hash IS NOT NULL AND a.sequence <= ? ORDER BY a.sequence DESC LIMIT 1)
       ORDER BY r.id`,
    ),
    statesWithoutRows: db.prepare(
      `SELECT a.request_id, max(a.sequence) AS sequence FROM audit_log a
       WHERE a.request_id > ? AND a.state_hash IS NOT NULL AND a.sequence <= ? AND NOT EXISTS (SELECT 1 FROM approval_requests r WHERE r.id = a.request_id)
       GROUP BY a.request_id ORDER BY a.request_id LIMIT ?`,
    ),
    requestAudit: db.prepare('SELECT body FROM audit_log WHERE request_id = ? ORDER BY sequence'),
    head: db.prepare('SELECT body FROM audit_log ORDER BY sequence DESC LIMIT 1'),
    states: db.prepare('SELECT id, body, state_hash, audit_sequence FROM approval_requests ORDER BY id'),
    enqueue: db.prepare(
      `INSERT INTO outbox (id, channel, topic, request_id, target, next_attempt_at, created_at, payload)
       VALUES (@id, @channel, @topic, @requestId, @target, @dueAt, @now, @payload)`,
    ),
    // A digest already queued for that reviewer and window is the one that will be sent.
    enqueueOnce: db.prepare(
      `INSERT OR IGNORE INTO outbox (id, channel, topic, request_id, target, next_attempt_at, created_at, payload)
       VALUES (@id, @channel, @topic, @requestId, @target, @dueAt, @now, @payload)`,
    ),
    digestRow: db.prepare("SELECT id, status, next_attempt_at FROM outbox WHERE topic = 'email.digest' AND channel = ? AND target = ? AND payload = ?"),
    due: db.prepare(
      "SELECT id, channel, topic, request_id, target, attempts, created_at, last_error, payload FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, id LIMIT ?",
    ),
    lease: db.prepare('UPDATE outbox SET next_attempt_at = ? WHERE id = ?'),
    settle: db.prepare('UPDATE outbox SET status = @status, attempts = attempts + 1, next_attempt_at = @nextAttemptAt, last_error = @error WHERE id = @id'),
  };

  const enqueue = (messages: readonly OutboxMessageInput[] = []): void => {
    const at = new Date();
    const now = at.toISOString();
    for (const message of messages) {
      if (message.topic === 'email.digest') enqueueDigest(message, at, now);
      else statements.enqueue.run({ ...toOutboxColumns(message), id: newOutboxId(), now, dueAt: dueAtOf(message, at).toISOString() });
    }
  };
  /** Joins the window's digest while no sender has claimed it (writes are serialized: a claim comes after this commit), else its follow-up. */
  const enqueueDigest = (message: Extract<OutboxMessageInput, { topic: 'email.digest' }>, at: Date, now: string): void => {
    const dueAt = dueAtOf(message, at);
    for (let notice = message.notice; ; ) {
      const columns = toOutboxColumns({ ...message, notice });
      statements.enqueueOnce.run({ ...columns, id: newOutboxId(), now, dueAt: dueAt.toISOString() });
      const row = statements.digestRow.get(columns.channel, columns.target, columns.payload) as { id: string; status: string; next_attempt_at: string };
      if (digestUnclaimed(row, dueAt)) return;
      notice = { ...message.notice, after: row.id };
    }
  };
  /** Logs the change's events, the state event stamped, and writes the state with the sequence of that event. */
  const writeChange = (outcome: RequestChange<unknown>): void => {
    const bound = bindRequestState(outcome.request, outcome.events);
    const entries = appendEvents(bound.events);
    if (outcome.request && bound.state) {
      const { request } = outcome;
      statements.update.run({ ...write(request), auditSequence: entries[bound.state.index]?.sequence, stateHash: bound.state.hash });
      reindex(request);
    }
    enqueue(outcome.outbox);
  };
  const write = (request: ApprovalRequest) => ({ id: request.id, status: request.status, expiresAt: request.expiresAt, body: requestToJson(request) });

  /**
   * Inserts a new request bound to its audit events and indexes it, in the caller's transaction.
   * `checked`: it was opened pending through the checked create (budgets count it; `dedupeKey` folds twins into it).
   */
  const insertNew = (request: ApprovalRequest, events: readonly AuditEventInput[], checked?: { dedupeKey: string | null }): void => {
    const bound = bindRequestState(request, events);
    const entries = appendEvents(bound.events);
    statements.insert.run({
      ...write(request),
      requester: request.requester,
      idempotencyKey: request.idempotencyKey ?? null,
      tool: request.tool,
      createdAt: request.createdAt,
      auditSequence: bound.state && entries[bound.state.index]?.sequence,
      stateHash: bound.state?.hash,
      dedupeKey: checked?.dedupeKey ?? null,
      escalated: checked ? 1 : null,
    });
    reindex(request, true);
  };

  type Creation = { existing: RequestRow } | { created: ApprovalRequest };
  const create = db.transaction((request: ApprovalRequest, events: readonly AuditEventInput[], outbox?: readonly OutboxMessageInput[]): Creation => {
    if (request.idempotencyKey !== undefined) {
      const existing = statements.byIdempotencyKey.get(request.requester, request.idempotencyKey) as RequestRow | undefined;
      if (existing) return { existing };
    }
    insertNew(request, events);
    enqueue(outbox);
    return { created: request };
  });

  type Checked = { existing: RequestRow; kind: 'replayed' | 'deduplicated' } | { created: ApprovalRequest } | { overBudget: BudgetExceeded; notified: boolean };
  // BEGIN IMMEDIATE serializes every writer, so the counts below cannot race another create.
  const createChecked = (request: ApprovalRequest, events: readonly AuditEventInput[], outbox: readonly OutboxMessageInput[], checks: CreateChecks): Checked => {
    if (request.idempotencyKey !== undefined) {
      const existing = (statements.byIdempotencyKey.get(request.requester, request.idempotencyKey) ?? statements.byAlias.get(request.requester, request.idempotencyKey)) as RequestRow | undefined;
      if (existing) return { existing, kind: 'replayed' };
    }
    const escalates = request.status === 'pending';
    const now = checks.now.toISOString();
    if (escalates && checks.dedupe) {
      const twin = statements.pendingTwin.get(request.requester, checks.dedupe.key) as RequestRow | undefined;
      const twinRequest = twin && checkRequestRowColumns(twin);
      // An overdue twin is about to expire: it leaves the de-duplication index and a new request opens.
      if (twin && twinRequest?.ok && twinRequest.request.expiresAt <= now) statements.forgetTwin.run(twin.id);
      else if (twin && twinRequest?.ok) {
        if (request.idempotencyKey !== undefined) statements.alias.run(request.requester, request.idempotencyKey, twin.id);
        appendEvents(bindRequestState(undefined, checks.dedupe.events(twinRequest.request)).events);
        return { existing: twin, kind: 'deduplicated' };
      } else if (twin) return { existing: twin, kind: 'deduplicated' }; // tampered: reading it below refuses, fail-closed
    }
    if (escalates && checks.budget) {
      const exceeded = overBudget(checks.budget, {
        pending: (limit) => (statements.countPending.get(request.requester, now, limit) as { count: number }).count,
        sinceHour: (limit) => (statements.countSince.get(request.requester, new Date(checks.now.getTime() - 3_600_000).toISOString(), limit) as { count: number }).count,
      });
      if (exceeded) {
        const breach = statements.breach.get(request.requester, exceeded.budget) as { notified_at: string; open: number } | undefined;
        const first = !breach || (breach.open === 0 && Date.parse(breach.notified_at) <= checks.now.getTime() - BUDGET_NOTICE_QUIET_MS);
        if (first) statements.noticeBreach.run(request.requester, exceeded.budget, now);
        else statements.reopenBreach.run(request.requester, exceeded.budget);
        const refusal = checks.budget.refusal(exceeded, first);
        appendEvents(bindRequestState(undefined, refusal.events).events);
        enqueue(refusal.outbox);
        return { overBudget: exceeded, notified: first };
      }
    }
    // The idempotency key was looked up above, in this transaction: insert at once, marked checked in the same row.
    insertNew(request, events, escalates ? { dedupeKey: checks.dedupe?.key ?? null } : undefined);
    enqueue(outbox);
    if (escalates) statements.closeBreaches.run(request.requester);
    return { created: request };
  };
  const createCheckedAlone = db.transaction(createChecked);

  /**
   * Group commit of checked creates: the creates that arrive in one turn of the event loop run
   * one after another in one `BEGIN IMMEDIATE` transaction, and all resolve after the one COMMIT:
   * nothing is acknowledged before it is durable, each request is written with its audit entries
   * atomically, and the chain order is the order of the creates. The commit's page writes — a
   * create's largest cost after the HTTP work — are shared by the batch. If any create of it
   * throws, the whole batch rolls back and each create runs again in its own transaction, so one
   * that throws fails alone. (Savepoints would also isolate it, at the cost of journaling every
   * page a create touches: ~10% of a create, paid for a failure that almost never happens.)
   */
  type CheckedItem = { request: ApprovalRequest; events: readonly AuditEventInput[]; outbox: readonly OutboxMessageInput[]; checks: CreateChecks };
  let batch: Array<{ item: CheckedItem; resolve: (result: Checked) => void; reject: (error: unknown) => void }> = [];
  const commitBatch = db.transaction((items: typeof batch) => items.map(({ item }) => createChecked(item.request, item.events, item.outbox, item.checks)));
  const flushBatch = (): void => {
    const items = batch;
    batch = [];
    if (items.length === 0) return;
    let outcomes: Checked[];
    try {
      outcomes = commitBatch.immediate(items);
    } catch (error) {
      if (items.length === 1) items[0]?.reject(error);
      else {
        for (const { item, resolve, reject } of items) {
          try {
            resolve(createCheckedAlone.immediate(item.request, item.events, item.outbox, item.checks));
          } catch (itsError) {
            reject(itsError);
          }
        }
      }
      return;
    }
    outcomes.forEach((outcome, index) => (items[index] as (typeof items)[number]).resolve(outcome));
    checkpointer?.committed(items.length);
  };
  const groupCommit = (item: CheckedItem): Promise<Checked> =>
    new Promise((resolve, reject) => {
      if (batch.push({ item, resolve, reject }) === 1) setImmediate(flushBatch);
    });

  const createMany = db.transaction((items: readonly { request: ApprovalRequest; events: readonly AuditEventInput[] }[]) => {
    for (const { request, events } of items) insertNew(request, events);
  });

  type Update<T> = { found: false } | { found: true; tampered: readonly string[] } | { found: true; changed: boolean; result: T };
  const update = db.transaction(<T>(id: string, change: (current: ApprovalRequest) => RequestChange<T>): Update<T> => {
    const row = statements.byId.get(id) as RequestRow | undefined;
    if (!row) return { found: false };
    const check = checkRequestRowColumns(row);
    // Fail closed before `change` runs: nothing a tampered row says may decide anything.
    if (!check.ok) return { found: true, tampered: check.problems };
    const outcome = change(check.request);
    writeChange(outcome);
    return { found: true, changed: outcome.request !== undefined, result: outcome.result };
  });

  /** Audits a refused tampered row in its own transaction; `once` skips it when that is already the request's newest event (the sweeper retries every few seconds). */
  const recordTampering = (id: string, problems: readonly string[], once: boolean) => {
    const tampered = stateTampered(id, problems);
    db.transaction(() => {
      const newest = statements.newestEventOf.get(id) as { body: string } | undefined;
      if (once && newest && (JSON.parse(newest.body) as AuditEntry).type === 'state.tampered') return;
      appendEvents([tampered.event]);
    }).immediate();
    return tampered.error;
  };

  const notify = (id: string) => queueMicrotask(() => changes.emit('change', id));
  // The actionable queries differ only by how many roles a reviewer holds, owned keys and filters: a few shapes, each prepared once.
  const shapes = new Map<string, Database.Statement>();
  const prepared = (sql: string): Database.Statement => {
    let statement = shapes.get(sql);
    if (!statement) {
      if (shapes.size >= 200) shapes.clear();
      shapes.set(sql, (statement = db.prepare(sql)));
    }
    return statement;
  };

  return {
    async createRequest(request, events, outbox) {
      const result = create.immediate(request, events, outbox);
      if ('existing' in result) return { request: checkedRequest(result.existing), created: false };
      notify(request.id);
      return { request: result.created, created: true };
    },
    async createRequestChecked(request, events, outbox, checks): Promise<CheckedCreation> {
      const result = await groupCommit({ request, events, outbox, checks });
      if ('overBudget' in result) return { kind: 'over_budget', exceeded: result.overBudget, notified: result.notified };
      if ('existing' in result) return { kind: result.kind, request: checkedRequest(result.existing) };
      notify(request.id);
      return { kind: 'created', request: result.created };
    },
    async createRequests(items) {
      createMany.immediate(items);
      for (const { request } of items) notify(request.id);
    },
    async getRequest(id) {
      const row = statements.byId.get(id) as RequestRow | undefined;
      return row && checkedRequest(row);
    },
    async listRequests(filter: ApprovalFilter = {}) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (filter.status) (where.push('r.status = ?'), values.push(filter.status));
      if (filter.tool) (where.push('r.tool = ?'), values.push(filter.tool));
      if (filter.requester) (where.push('r.requester = ?'), values.push(filter.requester));
      // A key folded into another request (de-duplication) finds that request too.
      if (filter.idempotencyKey) (where.push('(r.idempotency_key = ? OR r.id IN (SELECT k.request_id FROM request_aliases k WHERE k.idempotency_key = ? AND k.requester = r.requester))'), values.push(filter.idempotencyKey, filter.idempotencyKey));
      const deadline = filter.order === 'deadline';
      if (deadline && filter.after) (where.push('(r.expires_at > ? OR (r.expires_at = ? AND r.id > ?))'), values.push(filter.after.expiresAt, filter.after.expiresAt, filter.after.id));
      if (!deadline && filter.before) (where.push('(r.created_at < ? OR (r.created_at = ? AND r.id < ?))'), values.push(filter.before.createdAt, filter.before.createdAt, filter.before.id));
      // `+r.status`: not through the status index, so SQLite walks creation order and stops at `limit`,
      // instead of reading and sorting every request of the common resolved statuses.
      if (filter.statuses) (where.push(filter.statuses.length ? `+r.status IN (${filter.statuses.map(() => '?').join(', ')})` : '0'), values.push(...filter.statuses));
      // Times are stored as toISOString() text, so normalizing the bound compares as instants.
      if (filter.createdSince !== undefined) (where.push('r.created_at >= ?'), values.push(isoInstant(filter.createdSince, 'createdSince')));
      if (filter.createdUntil !== undefined) (where.push('r.created_at < ?'), values.push(isoInstant(filter.createdUntil, 'createdUntil')));
      if (filter.reviewer !== undefined) (where.push("EXISTS (SELECT 1 FROM json_each(r.body, '$.decisions') d WHERE json_extract(d.value, '$.reviewer') = ?)"), values.push(filter.reviewer));
      if (filter.search) (where.push('instr(lower(r.body), lower(?)) > 0'), values.push(filter.search));
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const order = deadline ? 'r.expires_at ASC, r.id ASC' : 'r.created_at DESC, r.id DESC';
      const sql = `${selectRequestRows()} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit}`;
      return checkRequestRows(db.prepare(sql).all(...values) as RequestRow[]);
    },
    async listActionable(query) {
      const { sql, values } = sqliteActionableSql(query);
      return checkRequestRows(prepared(sql).all(...values) as RequestRow[]);
    },
    async countActionable(query) {
      const values: unknown[] = [];
      const sql = actionableCountSql(query, { prefix: '', param: (value) => (values.push(value), '?') });
      return Number((prepared(sql).get(...values) as { total: number }).total);
    },
    async updateRequest<T>(id: string, change: (current: ApprovalRequest) => RequestChange<T>) {
      const outcome = update.immediate(id, change);
      if (!outcome.found) return undefined;
      if ('tampered' in outcome) throw recordTampering(id, outcome.tampered, false);
      if (outcome.changed) notify(id);
      return outcome.result as T;
    },
    async updateOverdue(now, limit, change) {
      // One transaction for the batch: each expiry is written with its audit entry and deliveries, and
      // the batch commits once (a WAL commit per request would cap a burst at a few hundred a second).
      // The caller keeps batches small, so the event loop (and the API) runs between them.
      const ids = (statements.overdue.all(now.toISOString(), limit) as { id: string }[]).map((row) => row.id);
      const tampered: { id: string; problems: readonly string[] }[] = [];
      const changedIds = db
        .transaction(() => {
          const changed: string[] = [];
          for (const id of ids) {
            const row = statements.byId.get(id) as RequestRow | undefined;
            if (!row) continue;
            const check = checkRequestRowColumns(row);
            if (!check.ok) {
              tampered.push({ id, problems: check.problems });
              continue;
            }
            if (check.request.status !== 'pending') continue;
            const outcome = change(check.request);
            writeChange(outcome);
            if (outcome.request !== undefined) changed.push(id);
          }
          return changed;
        })
        .immediate();
      for (const { id, problems } of tampered) recordTampering(id, problems, true);
      for (const id of changedIds) notify(id);
      return changedIds.length;
    },
    async claimOutbox(now, limit, leaseMs) {
      // The dispatcher looks after every change, and most looks find nothing due: a plain read
      // first spares them the write lock (profiled at ~9% of a create's CPU). The read inside the
      // transaction stays the one that decides what is claimed.
      if (statements.due.get(now.toISOString(), 1) === undefined) return [];
      return db
        .transaction(() => {
          const rows = statements.due.all(now.toISOString(), limit) as OutboxRow[];
          const leasedUntil = new Date(now.getTime() + leaseMs).toISOString();
          for (const row of rows) statements.lease.run(leasedUntil, row.id);
          return rows.map(fromOutboxRow);
        })
        .immediate();
    },
    async settleOutbox(id, settlement, events = []) {
      db.transaction(() => {
        statements.settle.run({
          id,
          status: settlement.outcome === 'retry' ? 'pending' : settlement.outcome,
          nextAttemptAt: settlement.outcome === 'retry' ? settlement.at.toISOString() : new Date().toISOString(),
          error: settlement.outcome === 'delivered' ? null : settlement.error,
        });
        appendEvents(bindRequestState(undefined, events).events);
      }).immediate();
    },
    async appendAudit(events) {
      db.transaction(() => appendEvents(bindRequestState(undefined, events).events)).immediate();
    },
    async enqueueOutbox(messages) {
      db.transaction(() => enqueue(messages)).immediate();
    },
    async readRequestAudit(requestId) {
      return (statements.requestAudit.all(requestId) as { body: string }[]).map((row) => JSON.parse(row.body) as AuditEntry);
    },
    async readAuditPage(after, limit) {
      return (statements.readAuditPage.all(after, limit) as { body: string }[]).map((row) => JSON.parse(row.body) as AuditEntry);
    },
    async readAudit() {
      return (statements.readAudit.all() as { body: string }[]).map((row) => JSON.parse(row.body) as AuditEntry);
    },
    async planArchive(cutoff, options = {}) {
      const at = cutoff.toISOString();
      const bounds = db.prepare('SELECT min(sequence) AS first, max(sequence) AS last FROM audit_log').get() as { first: number | null; last: number | null };
      if (bounds.first === null || bounds.last === null) return undefined;
      // The oldest state entry of any row that stays: pending, resolved too recently, or (never, after the migration) without a retention row.
      const pinned = db
        .prepare(
          `SELECT min(r.audit_sequence) AS pinned FROM approval_requests r LEFT JOIN request_retention k ON k.request_id = r.id
           WHERE r.status = 'pending' OR k.request_id IS NULL OR k.keep_until > ?`,
        )
        .get(at) as { pinned: number | null };
      let to = Math.min(bounds.last, (pinned.pinned ?? Number.POSITIVE_INFINITY) - 1);
      if (to < bounds.first) return undefined;
      // Every row up to `to` may go (the pin): stop before the state entry of the one after the cap.
      if (options.maxRequests !== undefined) {
        const next = db.prepare('SELECT audit_sequence FROM approval_requests WHERE audit_sequence <= ? ORDER BY audit_sequence LIMIT 1 OFFSET ?').get(to, Math.max(1, Math.trunc(options.maxRequests))) as { audit_sequence: number } | undefined;
        if (next) to = next.audit_sequence - 1;
      }
      const any = db.prepare('SELECT 1 FROM request_retention k JOIN approval_requests r ON r.id = k.request_id WHERE k.keep_until <= ? AND r.audit_sequence <= ? LIMIT 1').get(at, to);
      return any === undefined ? undefined : { from: bounds.first, to, cutoff };
    },
    async readArchivableRows(plan, afterId, limit) {
      return (
        db
          .prepare(
            `SELECT r.id, r.body, r.state_hash, r.audit_sequence FROM request_retention k JOIN approval_requests r ON r.id = k.request_id
             WHERE k.keep_until <= ? AND r.audit_sequence <= ? AND k.request_id > ? ORDER BY k.request_id LIMIT ?`,
          )
          .all(plan.cutoff.toISOString(), plan.to, afterId, limit) as Array<{ id: string; body: string; state_hash: string | null; audit_sequence: number | null }>
      ).map(toStoredRequestState);
    },
    async commitArchive(plan, rows, event) {
      const sequenceOf = db.prepare('SELECT audit_sequence FROM approval_requests WHERE id = ?');
      const deleteRow = db.prepare('DELETE FROM approval_requests WHERE id = ?');
      const deleteKeep = db.prepare('DELETE FROM request_retention WHERE request_id = ?');
      return db
        .transaction(() => {
          const first = db.prepare('SELECT min(sequence) AS first FROM audit_log').get() as { first: number | null };
          if (first.first !== plan.from) return false;
          // Fenced: a run whose lease lapsed and went to another replica must not cut the log under it.
          if (plan.lease && !db.prepare('SELECT 1 FROM signoff_leases WHERE name = ? AND holder = ? AND expires_at > ?').get(plan.lease.name, plan.lease.holder, new Date().toISOString())) return false;
          for (const row of rows) if ((sequenceOf.get(row.id) as { audit_sequence: number | null } | undefined)?.audit_sequence !== (row.auditSequence ?? null)) return false;
          // Appended before the entries go, so the chain's newest entry always stays in the table.
          appendEvents(bindRequestState(undefined, [event]).events);
          for (const row of rows) (deleteRow.run(row.id), deleteKeep.run(row.id));
          db.prepare('DELETE FROM audit_log WHERE sequence <= ?').run(plan.to);
          return true;
        })
        .immediate();
    },
    async acquireLease(lease) {
      const now = Date.now();
      // Inserted, or taken over when ours already or run out; `changes` is 0 while another holder's lease runs.
      const taken = db
        .prepare(
          `INSERT INTO signoff_leases (name, holder, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
           WHERE signoff_leases.holder = excluded.holder OR signoff_leases.expires_at <= ?`,
        )
        .run(lease.name, lease.holder, new Date(now + lease.ttlMs).toISOString(), new Date(now).toISOString());
      return taken.changes === 1;
    },
    async releaseLease(name, holder) {
      db.prepare('DELETE FROM signoff_leases WHERE name = ? AND holder = ?').run(name, holder);
    },
    async readAuditStart() {
      return (db.prepare('SELECT min(sequence) AS first FROM audit_log').get() as { first: number | null }).first ?? undefined;
    },
    async endSession(sessionId, expiresAt) {
      db.transaction(() => {
        // Ended sessions past their own expiry need no record: they are refused anyway.
        db.prepare('DELETE FROM ended_sessions WHERE expires_at <= ?').run(new Date().toISOString());
        db.prepare('INSERT OR IGNORE INTO ended_sessions (session_id, expires_at) VALUES (?, ?)').run(sessionId, expiresAt.toISOString());
      }).immediate();
    },
    async sessionEnded(sessionId) {
      return db.prepare('SELECT 1 FROM ended_sessions WHERE session_id = ?').get(sessionId) !== undefined;
    },
    async readAuditHead() {
      const row = statements.head.get() as { body: string } | undefined;
      if (!row) return undefined;
      const { sequence, hash, at } = JSON.parse(row.body) as AuditEntry;
      return { sequence, hash, at };
    },
    async readRequestStates() {
      return (statements.states.all() as Array<{ id: string; body: string; state_hash: string | null; audit_sequence: number | null }>).map(toStoredRequestState);
    },
    async readRequestStatesPage(afterId, limit, through) {
      return (statements.statesWithNewest.all(afterId, limit, through) as RowWithNewest[]).map(withNewestState);
    },
    async readAuditIndexPage(after, limit) {
      return (statements.readAuditIndexPage.all(after, limit) as IndexedRow[]).map(toIndexedEntry);
    },
    async readStatesWithoutRows(afterId, limit, through) {
      return (statements.statesWithoutRows.all(afterId, through, limit) as Array<{ request_id: string; sequence: number }>).map((row) => ({ requestId: row.request_id, sequence: row.sequence }));
    },
    onRequestChanged(listener) {
      changes.on('change', listener);
      return () => changes.off('change', listener);
    },
    async close() {
      changes.removeAllListeners();
      if (batch.length > 0) flushBatch();
      await checkpointer?.stop();
      db.close();
    },
  };
}

/** Appends events to the chain in the caller's transaction and returns them sealed. */
function createAuditAppender(db: Database.Database): (events: readonly AuditEventInput[]) => AuditEntry[] {
  const last = db.prepare('SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1');
  const insert = db.prepare('INSERT INTO audit_log (sequence, hash, body, request_id, state_hash) VALUES (?, ?, ?, ?, ?)');
  return (events) => {
    if (events.length === 0) return [];
    const newest = last.get() as { sequence: number; hash: string } | undefined;
    let sequence = newest?.sequence ?? 0;
    let previousHash = newest?.hash ?? GENESIS_HASH;
    const at = new Date().toISOString();
    return events.map((event) => {
      sequence += 1;
      const entry = sealAuditEntry(event, sequence, at, previousHash);
      insert.run(sequence, entry.hash, JSON.stringify(entry), entry.requestId ?? null, entry.stateHash ?? null);
      previousHash = entry.hash;
      return entry;
    });
  };
}

/**
 * Brings a database to the current schema (`CREATE … IF NOT EXISTS`, then each missing column
 * added). Returns whether it predates state binding: then its rows must be bound as found.
 */
function migrateSchema(db: Database.Database): boolean {
  db.exec(SCHEMA);
  const columnsOf = (table: string) => new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((column) => column.name));
  const unbound = !columnsOf('approval_requests').has('state_hash');
  for (const [table, column, type] of ADDED_COLUMNS) {
    if (!columnsOf(table).has(column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
  db.exec(AUDIT_INDEX);
  db.exec(ATTENTION_SCHEMA);
  return unbound;
}

/** Applies each migration not yet recorded, in order. */
function runMigrations(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS signoff_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT name FROM signoff_migrations').all() as { name: string }[]).map((row) => row.name));
  const record = db.prepare('INSERT INTO signoff_migrations (name, applied_at) VALUES (?, ?)');
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.name)) continue;
    migration.up(db);
    record.run(migration.name, new Date().toISOString());
  }
}

/**
 * Binds each row of a database from before state binding as found, with one `request.updated`
 * event. Trust on first use, once: it runs only in the migration that adds the columns, so a row
 * without a binding found later is refused as tampered.
 */
function bindFoundRows(db: Database.Database, appendEvents: (events: readonly AuditEventInput[]) => AuditEntry[]): void {
  const rows = db.prepare('SELECT id, body FROM approval_requests ORDER BY created_at, id').all() as { id: string; body: string }[];
  const bind = db.prepare('UPDATE approval_requests SET audit_sequence = ?, state_hash = ? WHERE id = ?');
  for (const row of rows) {
    const bound = bindRequestState(requestFromJson(row.body), [adoptionEvent(row.id)]);
    const [entry] = appendEvents(bound.events);
    bind.run(entry?.sequence, bound.state?.hash, row.id);
  }
}

