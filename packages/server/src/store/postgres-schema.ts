import pg from 'pg';

/**
 * The PostgreSQL tables, mirroring SQLite's: the request as JSON in `body` plus the columns queries
 * filter on. Bodies are TEXT, not JSONB: JSONB refuses `\u0000` in strings (tool arguments may hold
 * anything), and TEXT gives audit entries back byte for byte. Times are `timestamptz`, so deadlines
 * compare as instants whatever offset the ISO string was written with. Idempotent (`IF NOT EXISTS`),
 * and it migrates tables created by an earlier version (`ADD COLUMN IF NOT EXISTS`); the caller
 * serializes concurrent runs with an advisory lock. `audit_log.request_id` and `state_hash` repeat
 * fields of the entry's body so a request's newest state event is one index lookup away.
 *
 * @example
 * await client.query(postgresSchemaSql('signoff'));
 */
export function postgresSchemaSql(schema?: string): string {
  const prefix = schema === undefined ? '' : `${pg.escapeIdentifier(schema)}.`;
  return `
${schema === undefined ? '' : `CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)};`}
CREATE TABLE IF NOT EXISTS ${prefix}approval_requests (
  id TEXT PRIMARY KEY,
  requester TEXT NOT NULL,
  idempotency_key TEXT,
  status TEXT NOT NULL,
  tool TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  body TEXT NOT NULL,
  audit_sequence BIGINT,
  state_hash TEXT,
  UNIQUE (requester, idempotency_key)
);
CREATE INDEX IF NOT EXISTS approval_requests_due ON ${prefix}approval_requests (status, expires_at);
CREATE INDEX IF NOT EXISTS approval_requests_created ON ${prefix}approval_requests (created_at);
CREATE TABLE IF NOT EXISTS ${prefix}outbox (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  topic TEXT NOT NULL,
  request_id TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  last_error TEXT,
  payload TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON ${prefix}outbox (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS ${prefix}audit_log (
  sequence BIGINT PRIMARY KEY,
  hash TEXT NOT NULL,
  body TEXT NOT NULL,
  request_id TEXT,
  state_hash TEXT
);
ALTER TABLE ${prefix}approval_requests ADD COLUMN IF NOT EXISTS audit_sequence BIGINT;
ALTER TABLE ${prefix}approval_requests ADD COLUMN IF NOT EXISTS state_hash TEXT;
ALTER TABLE ${prefix}audit_log ADD COLUMN IF NOT EXISTS request_id TEXT;
ALTER TABLE ${prefix}audit_log ADD COLUMN IF NOT EXISTS state_hash TEXT;
ALTER TABLE ${prefix}outbox ADD COLUMN IF NOT EXISTS payload TEXT;
CREATE TABLE IF NOT EXISTS ${prefix}ended_sessions (
  session_id TEXT PRIMARY KEY,
  expires_at TIMESTAMPTZ NOT NULL
);
ALTER TABLE ${prefix}approval_requests ADD COLUMN IF NOT EXISTS dedupe_key TEXT;
ALTER TABLE ${prefix}approval_requests ADD COLUMN IF NOT EXISTS escalated BOOLEAN;
CREATE UNIQUE INDEX IF NOT EXISTS approval_requests_one_pending ON ${prefix}approval_requests (requester, dedupe_key) WHERE status = 'pending' AND dedupe_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS approval_requests_requester ON ${prefix}approval_requests (requester, created_at);
CREATE INDEX IF NOT EXISTS approval_requests_requester_pending ON ${prefix}approval_requests (requester, status, expires_at);
CREATE TABLE IF NOT EXISTS ${prefix}request_aliases (
  requester TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_id TEXT NOT NULL,
  PRIMARY KEY (requester, idempotency_key)
);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_one_digest ON ${prefix}outbox (channel, target, payload) WHERE topic = 'email.digest';
CREATE TABLE IF NOT EXISTS ${prefix}budget_breaches (
  requester TEXT NOT NULL,
  budget TEXT NOT NULL,
  notified_at TIMESTAMPTZ NOT NULL,
  open BOOLEAN NOT NULL,
  PRIMARY KEY (requester, budget)
);
`;
}

/**
 * Schema changes after state binding, each applied once, in order, under the DDL lock, and
 * recorded by name in `signoff_migrations` (the store backfills what a migration needs from rows).
 * Add new ones at the end with the next number.
 *
 * @example
 * for (const migration of postgresMigrations('signoff')) await client.query(migration.sql);
 */
export function postgresMigrations(schema?: string): ReadonlyArray<{ readonly name: string; readonly sql: string }> {
  const prefix = schema === undefined ? '' : `${pg.escapeIdentifier(schema)}.`;
  return [
    {
      // What a reviewer may act on, as rows SQL can filter and index (pending requests only): see actionable-index.ts.
      name: '0001-actionable-index',
      sql: `
CREATE TABLE ${prefix}request_roles (
  request_id TEXT NOT NULL, role TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL,
  requester TEXT NOT NULL, on_behalf_of TEXT, tool TEXT NOT NULL,
  PRIMARY KEY (role, request_id)
);
CREATE INDEX request_roles_newest ON ${prefix}request_roles (role, created_at, request_id) INCLUDE (expires_at, requester, on_behalf_of, tool);
CREATE INDEX request_roles_deadline ON ${prefix}request_roles (role, expires_at, request_id) INCLUDE (created_at, requester, on_behalf_of, tool);
CREATE INDEX request_roles_request ON ${prefix}request_roles (request_id);
CREATE TABLE ${prefix}request_decided (request_id TEXT NOT NULL, reviewer TEXT NOT NULL, PRIMARY KEY (request_id, reviewer));
`,
    },
    {
      // When each resolved request may be archived (retention): see keepUntil in actionable-index.ts.
      name: '0002-retention',
      sql: `
CREATE TABLE ${prefix}request_retention (request_id TEXT PRIMARY KEY, keep_until TIMESTAMPTZ NOT NULL);
CREATE INDEX request_retention_due ON ${prefix}request_retention (keep_until);
`,
    },
    {
      // `?status=pending` newest first walks this in order and stops at the page, instead of sorting every pending request.
      name: '0003-status-created-index',
      sql: `CREATE INDEX approval_requests_status_created ON ${prefix}approval_requests (status, created_at, id);`,
    },
    {
      // Writers no longer chain: they insert entries unsequenced (an `id` from a sequence, the time
      // they were logged) and a sequencer gives them `sequence` and `hash` after commit; request rows
      // name their entry by id (`audit_entry`); `audit_head` keeps the chain's end (retention may cut
      // every sequenced entry). Existing entries keep their sequence as id. See docs/audit-log.md.
      name: '0004-audit-sequencer',
      sql: `
CREATE SEQUENCE ${prefix}audit_log_entry_id;
ALTER TABLE ${prefix}audit_log ADD COLUMN id BIGINT, ADD COLUMN logged_at TIMESTAMPTZ;
UPDATE ${prefix}audit_log SET id = sequence;
SELECT setval(${pg.escapeLiteral(`${prefix}audit_log_entry_id`)}, coalesce((SELECT max(sequence) FROM ${prefix}audit_log), 1), (SELECT count(*) > 0 FROM ${prefix}audit_log));
ALTER TABLE ${prefix}audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE ${prefix}audit_log ALTER COLUMN id SET DEFAULT nextval(${pg.escapeLiteral(`${prefix}audit_log_entry_id`)}), ALTER COLUMN id SET NOT NULL,
  ALTER COLUMN sequence DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL, ADD PRIMARY KEY (id);
ALTER SEQUENCE ${prefix}audit_log_entry_id OWNED BY ${prefix}audit_log.id;
CREATE UNIQUE INDEX audit_log_sequence ON ${prefix}audit_log (sequence);
CREATE INDEX audit_log_unsequenced ON ${prefix}audit_log (id) WHERE sequence IS NULL;
DROP INDEX IF EXISTS ${prefix}audit_log_request;
CREATE INDEX audit_log_request_entry ON ${prefix}audit_log (request_id, id);
ALTER TABLE ${prefix}approval_requests ADD COLUMN audit_entry BIGINT;
UPDATE ${prefix}approval_requests SET audit_entry = audit_sequence;
CREATE TABLE ${prefix}audit_head (singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton), sequence BIGINT NOT NULL, hash TEXT NOT NULL, at TEXT NOT NULL);
INSERT INTO ${prefix}audit_head (sequence, hash, at) SELECT sequence, hash, body::json ->> 'at' FROM ${prefix}audit_log ORDER BY sequence DESC LIMIT 1;
`,
    },
    {
      // Retention across replicas: a lease so one archives at a time, and rows found by their state
      // entry so a run's cap (the request after `maxRequests`) walks the chain's index, not a sort of the backlog.
      name: '0005-retention-lease',
      sql: `
CREATE TABLE ${prefix}signoff_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL);
CREATE INDEX approval_requests_audit_entry ON ${prefix}approval_requests (audit_entry);
`,
    },
  ];
}
