import { EventEmitter } from 'node:events';
import type { ApprovalRequest } from '@signoff/core';
import { SignoffError } from '@signoff/core';
import Database from 'better-sqlite3';
import { GENESIS_HASH, sealAuditEntry } from '../audit/audit-chain.js';
import type { AuditEntry, AuditEventInput } from '../audit/audit-event.js';
import { fromOutboxRow, newOutboxId, type OutboxRow } from './outbox-row.js';
import type { OutboxMessageInput } from './outbox-message.js';
import { requestFromJson, requestToJson } from './request-json.js';
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
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS audit_log (
  sequence INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  body TEXT NOT NULL
);
`;

/**
 * The embedded store: one SQLite file in WAL mode (better-sqlite3). Writes are `BEGIN IMMEDIATE`
 * transactions, so writers are serialized and a read-modify-write never interleaves. Change
 * notifications are in-process: run one server per SQLite file (use PostgreSQL for replicas).
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
    db.exec(SCHEMA);
  } catch (error) {
    throw new SignoffError('STORAGE_UNAVAILABLE', `cannot open the SQLite store ${file}: ${(error as Error).message}`, { cause: error });
  }
  const changes = new EventEmitter().setMaxListeners(0);

  const statements = {
    insert: db.prepare(
      `INSERT INTO approval_requests (id, requester, idempotency_key, status, tool, created_at, expires_at, body)
       VALUES (@id, @requester, @idempotencyKey, @status, @tool, @createdAt, @expiresAt, @body)`,
    ),
    byIdempotencyKey: db.prepare('SELECT body FROM approval_requests WHERE requester = ? AND idempotency_key = ?'),
    byId: db.prepare('SELECT body FROM approval_requests WHERE id = ?'),
    update: db.prepare('UPDATE approval_requests SET status = @status, expires_at = @expiresAt, body = @body WHERE id = @id'),
    overdue: db.prepare("SELECT id FROM approval_requests WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?"),
    lastAudit: db.prepare('SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1'),
    insertAudit: db.prepare('INSERT INTO audit_log (sequence, hash, body) VALUES (?, ?, ?)'),
    readAudit: db.prepare('SELECT body FROM audit_log ORDER BY sequence'),
    enqueue: db.prepare(
      `INSERT INTO outbox (id, channel, topic, request_id, target, next_attempt_at, created_at)
       VALUES (@id, @channel, @topic, @requestId, @target, @now, @now)`,
    ),
    due: db.prepare(
      "SELECT id, channel, topic, request_id, target, attempts, created_at, last_error FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, id LIMIT ?",
    ),
    lease: db.prepare('UPDATE outbox SET next_attempt_at = ? WHERE id = ?'),
    settle: db.prepare('UPDATE outbox SET status = @status, attempts = attempts + 1, next_attempt_at = @nextAttemptAt, last_error = @error WHERE id = @id'),
  };

  const enqueue = (messages: readonly OutboxMessageInput[] = []): void => {
    const now = new Date().toISOString();
    for (const message of messages) statements.enqueue.run({ ...message, id: newOutboxId(), now });
  };

  const appendEvents = (events: readonly AuditEventInput[]): void => {
    const last = statements.lastAudit.get() as { sequence: number; hash: string } | undefined;
    let sequence = last?.sequence ?? 0;
    let previousHash = last?.hash ?? GENESIS_HASH;
    const at = new Date().toISOString();
    for (const event of events) {
      sequence += 1;
      const entry = sealAuditEntry(event, sequence, at, previousHash);
      statements.insertAudit.run(sequence, entry.hash, JSON.stringify(entry));
      previousHash = entry.hash;
    }
  };
  const read = (row: unknown): ApprovalRequest | undefined => (row ? requestFromJson((row as { body: string }).body) : undefined);
  const write = (request: ApprovalRequest) => ({ id: request.id, status: request.status, expiresAt: request.expiresAt, body: requestToJson(request) });

  const create = db.transaction((request: ApprovalRequest, events: readonly AuditEventInput[], outbox?: readonly OutboxMessageInput[]) => {
    if (request.idempotencyKey !== undefined) {
      const existing = read(statements.byIdempotencyKey.get(request.requester, request.idempotencyKey));
      if (existing) return { request: existing, created: false };
    }
    statements.insert.run({ ...write(request), requester: request.requester, idempotencyKey: request.idempotencyKey ?? null, tool: request.tool, createdAt: request.createdAt });
    appendEvents(events);
    enqueue(outbox);
    return { request, created: true };
  });

  const update = db.transaction(<T>(id: string, change: (current: ApprovalRequest) => RequestChange<T>) => {
    const current = read(statements.byId.get(id));
    if (!current) return { found: false as const };
    const outcome = change(current);
    if (outcome.request) statements.update.run(write(outcome.request));
    appendEvents(outcome.events);
    enqueue(outcome.outbox);
    return { found: true as const, changed: outcome.request !== undefined, result: outcome.result };
  });

  const notify = (id: string) => queueMicrotask(() => changes.emit('change', id));

  return {
    async createRequest(request, events, outbox) {
      const result = create.immediate(request, events, outbox);
      if (result.created) notify(request.id);
      return result;
    },
    async getRequest(id) {
      return read(statements.byId.get(id));
    },
    async listRequests(filter: ApprovalFilter = {}) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (filter.status) (where.push('status = ?'), values.push(filter.status));
      if (filter.tool) (where.push('tool = ?'), values.push(filter.tool));
      if (filter.requester) (where.push('requester = ?'), values.push(filter.requester));
      if (filter.idempotencyKey) (where.push('idempotency_key = ?'), values.push(filter.idempotencyKey));
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const sql = `SELECT body FROM approval_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
      return db.prepare(sql).all(...values).map((row) => read(row) as ApprovalRequest);
    },
    async updateRequest<T>(id: string, change: (current: ApprovalRequest) => RequestChange<T>) {
      const outcome = update.immediate(id, change);
      if (!outcome.found) return undefined;
      if (outcome.changed) notify(id);
      return outcome.result as T;
    },
    async updateOverdue(now, limit, change) {
      const ids = (statements.overdue.all(now.toISOString(), limit) as { id: string }[]).map((row) => row.id);
      let changed = 0;
      for (const id of ids) {
        const outcome = update.immediate(id, (current) => (current.status === 'pending' ? change(current) : { events: [], result: undefined }));
        if (outcome.found && outcome.changed) {
          changed += 1;
          notify(id);
        }
      }
      return changed;
    },
    async claimOutbox(now, limit, leaseMs) {
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
        appendEvents(events);
      }).immediate();
    },
    async appendAudit(events) {
      db.transaction(() => appendEvents(events)).immediate();
    },
    async readAudit() {
      return (statements.readAudit.all() as { body: string }[]).map((row) => JSON.parse(row.body) as AuditEntry);
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
