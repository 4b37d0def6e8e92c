import { EventEmitter } from 'node:events';
import type { ApprovalRequest } from '@signoff/core';
import { SignoffError } from '@signoff/core';
import Database from 'better-sqlite3';
import { GENESIS_HASH, sealAuditEntry } from '../audit/audit-chain.js';
import type { AuditEntry, AuditEventInput } from '../audit/audit-event.js';
import { adoptionEvent, bindRequestState } from './bind-request-state.js';
import { fromOutboxRow, newOutboxId, toOutboxColumns, type OutboxRow } from './outbox-row.js';
import type { OutboxMessageInput } from './outbox-message.js';
import { requestFromJson, requestToJson } from './request-json.js';
import { checkedRequest, checkRequestRowColumns, checkRequestRows, selectRequestRows, toStoredRequestState, type RequestRow } from './request-row.js';
import { stateTampered } from './state-tampered.js';
import type { ApprovalFilter, RequestChange, Store } from './store.js';

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
] as const;

/** Finds a request's state events (and its newest event) without scanning the log. */
const AUDIT_INDEX = 'CREATE INDEX IF NOT EXISTS audit_log_request ON audit_log (request_id, sequence)';

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
        return append;
      })
      .immediate();
  } catch (error) {
    db.close();
    throw new SignoffError('STORAGE_UNAVAILABLE', `cannot prepare the SQLite store ${file}: ${(error as Error).message}`, { cause: error });
  }

  const statements = {
    insert: db.prepare(
      `INSERT INTO approval_requests (id, requester, idempotency_key, status, tool, created_at, expires_at, body, audit_sequence, state_hash)
       VALUES (@id, @requester, @idempotencyKey, @status, @tool, @createdAt, @expiresAt, @body, @auditSequence, @stateHash)`,
    ),
    byIdempotencyKey: db.prepare(`${selectRequestRows()} WHERE r.requester = ? AND r.idempotency_key = ?`),
    byId: db.prepare(`${selectRequestRows()} WHERE r.id = ?`),
    update: db.prepare(
      'UPDATE approval_requests SET status = @status, expires_at = @expiresAt, body = @body, audit_sequence = @auditSequence, state_hash = @stateHash WHERE id = @id',
    ),
    overdue: db.prepare("SELECT id FROM approval_requests WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?"),
    newestEventOf: db.prepare('SELECT body FROM audit_log WHERE request_id = ? ORDER BY sequence DESC LIMIT 1'),
    readAudit: db.prepare('SELECT body FROM audit_log ORDER BY sequence'),
    readAuditPage: db.prepare('SELECT body FROM audit_log WHERE sequence > ? ORDER BY sequence LIMIT ?'),
    head: db.prepare('SELECT body FROM audit_log ORDER BY sequence DESC LIMIT 1'),
    states: db.prepare('SELECT id, body, state_hash, audit_sequence FROM approval_requests ORDER BY id'),
    enqueue: db.prepare(
      `INSERT INTO outbox (id, channel, topic, request_id, target, next_attempt_at, created_at, payload)
       VALUES (@id, @channel, @topic, @requestId, @target, @now, @now, @payload)`,
    ),
    due: db.prepare(
      "SELECT id, channel, topic, request_id, target, attempts, created_at, last_error, payload FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, id LIMIT ?",
    ),
    lease: db.prepare('UPDATE outbox SET next_attempt_at = ? WHERE id = ?'),
    settle: db.prepare('UPDATE outbox SET status = @status, attempts = attempts + 1, next_attempt_at = @nextAttemptAt, last_error = @error WHERE id = @id'),
  };

  const enqueue = (messages: readonly OutboxMessageInput[] = []): void => {
    const now = new Date().toISOString();
    for (const message of messages) statements.enqueue.run({ ...toOutboxColumns(message), id: newOutboxId(), now });
  };
  /** Logs the change's events, the state event stamped, and writes the state with the sequence of that event. */
  const writeChange = (outcome: RequestChange<unknown>): void => {
    const bound = bindRequestState(outcome.request, outcome.events);
    const entries = appendEvents(bound.events);
    if (outcome.request && bound.state) {
      const { request } = outcome;
      statements.update.run({ ...write(request), auditSequence: entries[bound.state.index]?.sequence, stateHash: bound.state.hash });
    }
    enqueue(outcome.outbox);
  };
  const write = (request: ApprovalRequest) => ({ id: request.id, status: request.status, expiresAt: request.expiresAt, body: requestToJson(request) });

  type Creation = { existing: RequestRow } | { created: ApprovalRequest };
  const create = db.transaction((request: ApprovalRequest, events: readonly AuditEventInput[], outbox?: readonly OutboxMessageInput[]): Creation => {
    if (request.idempotencyKey !== undefined) {
      const existing = statements.byIdempotencyKey.get(request.requester, request.idempotencyKey) as RequestRow | undefined;
      if (existing) return { existing };
    }
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
    });
    enqueue(outbox);
    return { created: request };
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

  return {
    async createRequest(request, events, outbox) {
      const result = create.immediate(request, events, outbox);
      if ('existing' in result) return { request: checkedRequest(result.existing), created: false };
      notify(request.id);
      return { request: result.created, created: true };
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
      if (filter.idempotencyKey) (where.push('r.idempotency_key = ?'), values.push(filter.idempotencyKey));
      if (filter.before) (where.push('(r.created_at < ? OR (r.created_at = ? AND r.id < ?))'), values.push(filter.before.createdAt, filter.before.createdAt, filter.before.id));
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const sql = `${selectRequestRows()} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.created_at DESC, r.id DESC LIMIT ${limit}`;
      return checkRequestRows(db.prepare(sql).all(...values) as RequestRow[]);
    },
    async updateRequest<T>(id: string, change: (current: ApprovalRequest) => RequestChange<T>) {
      const outcome = update.immediate(id, change);
      if (!outcome.found) return undefined;
      if ('tampered' in outcome) throw recordTampering(id, outcome.tampered, false);
      if (outcome.changed) notify(id);
      return outcome.result as T;
    },
    async updateOverdue(now, limit, change) {
      const ids = (statements.overdue.all(now.toISOString(), limit) as { id: string }[]).map((row) => row.id);
      let changed = 0;
      for (const id of ids) {
        const outcome = update.immediate(id, (current) => (current.status === 'pending' ? change(current) : { events: [], result: undefined }));
        if (!outcome.found) continue;
        if ('tampered' in outcome) {
          recordTampering(id, outcome.tampered, true);
          continue;
        }
        if (outcome.changed) {
          changed += 1;
          notify(id);
        }
      }
      return changed;
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
    async readAuditPage(after, limit) {
      return (statements.readAuditPage.all(after, limit) as { body: string }[]).map((row) => JSON.parse(row.body) as AuditEntry);
    },
    async readAudit() {
      return (statements.readAudit.all() as { body: string }[]).map((row) => JSON.parse(row.body) as AuditEntry);
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
    onRequestChanged(listener) {
      changes.on('change', listener);
      return () => changes.off('change', listener);
    },
    async close() {
      changes.removeAllListeners();
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
  return unbound;
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
