import type { ApprovalRequest } from '@signoff/core';
import pg from 'pg';
import { actionableIndexOf, keepUntil } from './actionable-index.js';
import type { BoundEvents } from './bind-request-state.js';
import type { OutboxMessageInput } from './outbox-message.js';
import { newOutboxId, toOutboxColumns } from './outbox-row.js';
import { pgLiteral } from './pg-literal.js';
import { requestToJson } from './request-json.js';

/** The parameter types of {@link createBatchSql}, in order (each argument is written with its cast). */
export const CREATE_BATCH_TYPES = [
  // one element per request, in batch order
  'text[]', 'text[]', 'text[]', 'text[]', 'text[]', 'timestamptz[]', 'timestamptz[]', 'text[]', 'text[]', 'text[]', 'boolean[]', 'int[]', 'text[]', 'timestamptz[]',
  // one per audit event (the request it belongs to, by position), in event order
  'int[]', 'text[]', 'text[]', 'text[]',
  // one per actionable role, one per reviewer who already decided
  'int[]', 'text[]', 'int[]', 'text[]',
  // one per outbox message (its request by position, id, channel, topic, request id, target, payload, due)
  'int[]', 'text[]', 'text[]', 'text[]', 'text[]', 'text[]', 'text[]', 'timestamptz[]',
] as const;

/**
 * Writes new requests as one statement, each unless its id, its idempotency key (a request's or an
 * alias's) or its pending twin is already there: its audit entries (unsequenced; ids drawn first,
 * ascending in event order across the batch, so each row can name its state entry), the row, its
 * actionable-index rows, the end of its requester's open budget breach, its outbox messages (not
 * digests: joining a digest takes a read first, see `enqueueDigest`). Rows are tried in batch
 * order, so of two twins in one batch the first is written. Returns the ids it wrote; a request
 * not returned wrote nothing.
 *
 * @example
 * await client.query(`PREPARE create_batch (${CREATE_BATCH_TYPES.join(', ')}) AS ${createBatchSql('"signoff".')}`);
 */
export function createBatchSql(prefix: string): string {
  return `WITH input AS MATERIALIZED (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::boolean[], $12::int[], $13::text[], $14::timestamptz[])
        WITH ORDINALITY AS i(id, requester, idempotency_key, status, tool, created_at, expires_at, body, state_hash, dedupe_key, escalated, state_event, on_behalf_of, keep_until, n)),
    ids AS MATERIALIZED (SELECT nextval(${pg.escapeLiteral(`${prefix}audit_log_entry_id`)}) AS id, k FROM generate_series(1, cardinality($16::text[])) AS k),
    created AS (
      INSERT INTO ${prefix}approval_requests (id, requester, idempotency_key, status, tool, created_at, expires_at, body, state_hash, dedupe_key, escalated, audit_entry)
      SELECT i.id, i.requester, i.idempotency_key, i.status, i.tool, i.created_at, i.expires_at, i.body, i.state_hash, i.dedupe_key, i.escalated, ids.id
      FROM input i LEFT JOIN ids ON ids.k = i.state_event
      WHERE NOT EXISTS (SELECT 1 FROM ${prefix}request_aliases a WHERE a.requester = i.requester AND a.idempotency_key = i.idempotency_key)
      ORDER BY i.n
      ON CONFLICT DO NOTHING RETURNING id),
    made AS MATERIALIZED (SELECT i.* FROM input i JOIN created c ON c.id = i.id),
    entries AS (
      INSERT INTO ${prefix}audit_log (id, body, request_id, state_hash, logged_at)
      SELECT ids.id, e.body, e.request_id, e.state_hash, clock_timestamp()
      FROM unnest($15::int[], $16::text[], $17::text[], $18::text[]) WITH ORDINALITY AS e(n, body, request_id, state_hash, k)
      JOIN ids ON ids.k = e.k JOIN made ON made.n = e.n ORDER BY e.k),
    roles AS (
      INSERT INTO ${prefix}request_roles (request_id, role, created_at, expires_at, requester, on_behalf_of, tool)
      SELECT made.id, r.role, made.created_at, made.expires_at, made.requester, made.on_behalf_of, made.tool FROM unnest($19::int[], $20::text[]) AS r(n, role) JOIN made ON made.n = r.n),
    decided AS (
      INSERT INTO ${prefix}request_decided (request_id, reviewer) SELECT made.id, d.reviewer FROM unnest($21::int[], $22::text[]) AS d(n, reviewer) JOIN made ON made.n = d.n),
    kept AS (INSERT INTO ${prefix}request_retention (request_id, keep_until) SELECT id, keep_until FROM made WHERE keep_until IS NOT NULL),
    closed AS (UPDATE ${prefix}budget_breaches SET open = false WHERE open AND requester IN (SELECT requester FROM made WHERE escalated)),
    queued AS (
      INSERT INTO ${prefix}outbox (id, channel, topic, request_id, target, next_attempt_at, created_at, payload)
      SELECT o.id, o.channel, o.topic, o.request_id, o.target, coalesce(o.due_at, now()), now(), o.payload
      FROM unnest($23::int[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[], $30::timestamptz[]) AS o(n, id, channel, topic, request_id, target, payload, due_at)
      JOIN made ON made.n = o.n)
    SELECT id FROM created`;
}

/** An outbox message a batch can queue: any but a digest. */
export type PlainOutboxMessage = Exclude<OutboxMessageInput, { readonly topic: 'email.digest' }>;

/** One request of a batch, its values already written as SQL literals (the costly part, done once). */
export interface CreateBatchItem {
  readonly id: string;
  /** Literals of the per-request columns ($1–$14 but the state event's position, known only in a batch). */
  readonly columns: readonly string[];
  /** The state event's index among the request's events, if it has one. */
  readonly stateIndex: number | undefined;
  /** Literals of each event's body, request id and state hash ($16–$18). */
  readonly events: ReadonlyArray<readonly [string, string, string]>;
  readonly roles: readonly string[];
  readonly decidedBy: readonly string[];
  /** Literals of each outbox message's id, channel, topic, request id, target, payload and due time ($24–$30). */
  readonly outbox: ReadonlyArray<readonly string[]>;
}

/**
 * Writes one request's values as literals. Throws (`TypeError`) for a value PostgreSQL cannot take
 * (a string holding U+0000), so that create fails alone, before any batch is sent.
 *
 * @example
 * const item = createBatchItem(request, bindRequestState(request, events), dedupeKey);
 */
export function createBatchItem(request: ApprovalRequest, bound: BoundEvents, dedupeKey: string | null, outbox: readonly PlainOutboxMessage[] = []): CreateBatchItem {
  const index = actionableIndexOf(request) ?? { roles: [], decidedBy: [] };
  const escalates = request.status === 'pending';
  return {
    id: request.id,
    columns: [
      request.id,
      request.requester,
      request.idempotencyKey ?? null,
      request.status,
      request.tool,
      request.createdAt,
      request.expiresAt,
      requestToJson(request),
      bound.state?.hash ?? null,
      escalates ? dedupeKey : null,
      escalates,
      // $12, the state event's position in the batch, goes here
      request.onBehalfOf ?? null,
      keepUntil(request) ?? null,
    ].map(pgLiteral),
    stateIndex: bound.state?.index,
    events: bound.events.map((event) => [pgLiteral(JSON.stringify(event)), pgLiteral(event.requestId ?? null), pgLiteral(event.stateHash ?? null)] as const),
    roles: index.roles.map(pgLiteral),
    decidedBy: index.decidedBy.map(pgLiteral),
    outbox: outbox.map((message) => {
      const columns = toOutboxColumns(message);
      return [newOutboxId(), columns.channel, columns.topic, columns.requestId, columns.target, columns.payload, 'dueAt' in message && message.dueAt ? message.dueAt.toISOString() : null].map(pgLiteral);
    }),
  };
}

/**
 * The argument list of an `EXECUTE` of {@link createBatchSql} for these requests, in this order.
 *
 * @example
 * await client.query(`EXECUTE create_batch(${createBatchArguments(items)})`);
 */
export function createBatchArguments(items: readonly CreateBatchItem[]): string {
  const columns: string[][] = Array.from({ length: CREATE_BATCH_TYPES.length }, () => []);
  const push = (parameter: number, literal: string) => (columns[parameter - 1] as string[]).push(literal);
  let events = 0;
  items.forEach((item, position) => {
    const n = String(position + 1);
    item.columns.forEach((literal, column) => push(column < 11 ? column + 1 : column + 2, literal));
    push(12, item.stateIndex === undefined ? 'NULL' : String(events + item.stateIndex + 1));
    for (const [body, requestId, stateHash] of item.events) {
      push(15, n);
      push(16, body);
      push(17, requestId);
      push(18, stateHash);
    }
    events += item.events.length;
    for (const role of item.roles) {
      push(19, n);
      push(20, role);
    }
    for (const reviewer of item.decidedBy) {
      push(21, n);
      push(22, reviewer);
    }
    for (const message of item.outbox) {
      push(23, n);
      message.forEach((literal, column) => push(24 + column, literal));
    }
  });
  return columns.map((literals, column) => `${literals.length === 0 ? "'{}'" : `ARRAY[${literals.join(',')}]`}::${CREATE_BATCH_TYPES[column]}`).join(', ');
}
