/**
 * The tables exactly as Signoff 0.1 created them, before request rows were bound to the audit
 * chain: the stores' migration tests open databases made from these.
 */
export const LEGACY_SQLITE_SCHEMA = `
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

/** The PostgreSQL tables as Signoff 0.1 created them; `prefix` is a quoted schema and a dot. */
export function legacyPostgresSchema(prefix: string): string {
  return `CREATE TABLE IF NOT EXISTS ${prefix}approval_requests (
  id TEXT PRIMARY KEY,
  requester TEXT NOT NULL,
  idempotency_key TEXT,
  status TEXT NOT NULL,
  tool TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  body TEXT NOT NULL,
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
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON ${prefix}outbox (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS ${prefix}audit_log (
  sequence BIGINT PRIMARY KEY,
  hash TEXT NOT NULL,
  body TEXT NOT NULL
);
`;
}
