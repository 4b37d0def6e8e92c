import { SignoffError, type ApprovalRequest } from '@signoff/core';
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { GENESIS_HASH, sealAuditEntry } from '../audit/audit-chain.js';
import type { AuditEntry, AuditEventInput } from '../audit/audit-event.js';
import type { RequestRowCheck } from '../audit/check-request-row.js';
import { adoptionEvent, bindRequestState } from './bind-request-state.js';
import { postgresMigrations, postgresSchemaSql } from './postgres-schema.js';
import { CREATE_BATCH_TYPES, createBatchArguments, createBatchItem, createBatchSql, type CreateBatchItem, type PlainOutboxMessage } from './postgres-create-batch.js';
import { pgTransaction } from './pg-transaction.js';
import { actionableCountSql, actionableIndexOf, actionableSql, keepUntil } from './actionable-index.js';
import type { OutboxMessageInput } from './outbox-message.js';
import { digestUnclaimed, dueAtOf, fromOutboxRow, newOutboxId, toOutboxColumns, type OutboxRow } from './outbox-row.js';
import { requestFromJson, requestToJson } from './request-json.js';
import { checkedRequest, checkRequestRowColumns, checkRequestRows, selectRequestRows, toIndexedEntry, toStoredRequestState, withNewestState, type IndexedRow, type RequestRow, type RowWithNewest } from './request-row.js';
import { isoInstant } from './iso-instant.js';
import { stateTampered } from './state-tampered.js';
import { overBudget } from './over-budget.js';
import { ANY_REQUEST, BUDGET_NOTICE_QUIET_MS, type ApprovalFilter, type CheckedCreation, type RequestChange, type Store } from './store.js';

/** Where the PostgreSQL store lives. */
export interface PostgresStoreOptions {
  /** A `postgres://` URL. */
  readonly connectionString: string;
  /** Keep the tables in this schema (created if missing) instead of the connection's default; tests use one each. */
  readonly schema?: string;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
}

// Advisory lock keys (the two-int form): DDL at startup is global, audit sequencing is per schema.
const DDL_LOCK = 0x5160_0001;
const AUDIT_LOCK = 0x5160_0002;
const REQUESTER_LOCK = 0x5160_0003;
const IDEMPOTENCY_KEY_LOCK = 0x5160_0004;
const DEDUPE_KEY_LOCK = 0x5160_0005;
/** An advisory lock a create takes: its kind, and its key as SQL (an integer, or `hashtext` of a literal). */
type CreateLock = readonly [lock: number, key: string];
const CHANNEL = 'signoff_request_changed';
const MAX_IDENTIFIER_BYTES = 63; // PostgreSQL's NAMEDATALEN - 1; longer channel names are truncated or refused
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
const LIVENESS_INTERVAL_MS = 10_000;
const LIVENESS_TIMEOUT_MS = 5_000;
/** Entries the sequencer chains per transaction. */
const SEQUENCE_BATCH = 1_000;
/** Creates per group-commit message at most (each carries its request, entries and messages as SQL text). */
const CREATES_PER_BATCH = 64;
/** New request ids per `NOTIFY`: ~35 bytes each, under the 8,000-byte payload limit. */
const ANNOUNCED_PER_NOTIFY = 200;
/** How often every replica looks for entries no one sequenced (a writer's replica died between its commit and its sequencing pass). */
const SEQUENCER_SWEEP_MS = 1_000;
/** How long a sequencing pass may sit idle inside its transaction before PostgreSQL ends it (a pass takes milliseconds). */
const SEQUENCER_IDLE_LIMIT_MS = 10_000;

/**
 * The store for several server replicas sharing one PostgreSQL database. Each write is one
 * transaction with its audit events, inserted unsequenced (no lock shared between writers); after
 * commit a sequencer — whichever replica takes the audit lock — chains every committed entry in
 * batches, so the chain has no gaps or forks whichever replica writes (docs/audit-log.md). Reads of
 * the log sequence first. Changes are announced with `NOTIFY` on commit, and every replica runs a
 * `LISTEN` connection, so a waiter wakes whichever replica made the change.
 *
 * @example
 * const store = await openPostgresStore({ connectionString: 'postgres://signoff@db/signoff' });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { connectionString, schema } = options;
  const prefix = schema === undefined ? '' : `${pg.escapeIdentifier(schema)}.`;
  const requests = `${prefix}approval_requests`;
  const audit = `${prefix}audit_log`;
  const outbox = `${prefix}outbox`;
  // Named (prepared once per connection) where a read runs on every request: planning the checked read costs more than running it.
  const statementPrefix = `signoff_${schema ?? ''}_`;
  // One channel per schema, so stores in other schemas (isolated tests, other tenants) don't wake each other.
  const channel = schema === undefined ? CHANNEL : `${CHANNEL}_${schema}`;
  if (Buffer.byteLength(channel) > MAX_IDENTIFIER_BYTES) {
    throw new SignoffError('CONFIG_INVALID', `PostgreSQL schema name '${schema}' is too long: use at most ${MAX_IDENTIFIER_BYTES - CHANNEL.length - 1} bytes`);
  }

  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10 });
  let closed = false;
  // An idle connection that dies must not crash the process: the pool drops it and opens another.
  pool.on('error', (error) => console.error(`signoff: idle PostgreSQL connection failed: ${error.message}`));
  // pg-pool removes its own error listener while a client is checked out; the failure still reaches the next query.
  pool.on('connect', (client) => client.on('error', () => undefined));

  /** {@link pgTransaction} on this pool; `begin` may add statements to `BEGIN`'s round trip. Audit entries it appended are chained after it commits. */
  const transaction = <T>(work: (client: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> =>
    pgTransaction(pool, work, {
      begin,
      // Its entries are committed: chain them soon (the writer does not wait for that).
      committed: (client) => {
        if (appendedIn.delete(client)) requestSequencing();
      },
      failed: (client) => appendedIn.delete(client),
    });
  /** Connections whose open transaction appended audit entries. */
  const appendedIn = new WeakSet<PoolClient>();

  /**
   * Logs events in the caller's transaction, unsequenced: one INSERT, no lock shared with other
   * writers. Each entry gets an id (ascending in event order) and the database time it was logged;
   * the sequencer gives it its place in the chain after commit. Returns the ids, in event order.
   */
  const appendEvents = async (client: PoolClient, events: readonly AuditEventInput[]): Promise<number[]> => {
    if (events.length === 0) return [];
    const { rows } = await client.query<{ id: string }>({
      name: `${statementPrefix}append`,
      text: `INSERT INTO ${audit} (body, request_id, state_hash, logged_at)
        SELECT x.body, x.request_id, x.state_hash, clock_timestamp() FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(body, request_id, state_hash, n) ORDER BY x.n
        RETURNING id`,
      values: [events.map((event) => JSON.stringify(event)), events.map((event) => event.requestId ?? null), events.map((event) => event.stateHash ?? null)],
    });
    appendedIn.add(client);
    return rows.map((row) => Number(row.id)).sort((a, b) => a - b);
  };

  /**
   * Chains every entry committed before it starts, `SEQUENCE_BATCH` per transaction, under the audit
   * lock (the only section writers' entries pass through one at a time, and a short one: a few
   * statements per batch, not per write). Entries are taken in id order from what is committed: a
   * request's state events are written under its row lock, so the later one commits after the
   * earlier one was visible and always gets the higher sequence. A sequencer that dies mid-batch
   * rolls back whole; the next one (any replica) redoes the batch.
   */
  const sequenceCommitted = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const taken = await transaction(async (client) => {
        // A pass whose replica vanished without closing its connection (frozen, partitioned) is
        // ended by PostgreSQL after it sits idle in the transaction, so the lock passes on.
        await client.query(`SELECT set_config('idle_in_transaction_session_timeout', '${SEQUENCER_IDLE_LIMIT_MS}', true), pg_advisory_xact_lock($1, hashtext($2))`, [AUDIT_LOCK, schema ?? '']);
        const { rows: heads } = await client.query<{ sequence: string; hash: string; at: string }>(`SELECT sequence, hash, at FROM ${prefix}audit_head`);
        const { rows } = await client.query<{ id: string; body: string; logged_at: Date }>({
          name: `${statementPrefix}unsequenced`,
          text: `SELECT id, body, logged_at FROM ${audit} WHERE sequence IS NULL ORDER BY id LIMIT ${SEQUENCE_BATCH}`,
        });
        if (rows.length === 0) return 0;
        let sequence = Number(heads[0]?.sequence ?? 0);
        let previousHash = heads[0]?.hash ?? GENESIS_HASH;
        let at = heads[0]?.at ?? '';
        const entries = rows.map((row) => {
          sequence += 1;
          // The time it was logged, never before the entry it follows (`at` does not go backwards along the chain).
          const loggedAt = row.logged_at.toISOString();
          if (loggedAt > at) at = loggedAt;
          const entry = sealAuditEntry(JSON.parse(row.body) as AuditEventInput, sequence, at, previousHash);
          previousHash = entry.hash;
          return entry;
        });
        await client.query(
          `UPDATE ${audit} AS a SET sequence = x.sequence, hash = x.hash, body = x.body FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS x(id, sequence, hash, body) WHERE a.id = x.id`,
          [rows.map((row) => row.id), entries.map((entry) => entry.sequence), entries.map((entry) => entry.hash), entries.map((entry) => JSON.stringify(entry))],
        );
        await client.query(
          `INSERT INTO ${prefix}audit_head (singleton, sequence, hash, at) VALUES (true, $1, $2, $3)
           ON CONFLICT (singleton) DO UPDATE SET sequence = EXCLUDED.sequence, hash = EXCLUDED.hash, at = EXCLUDED.at`,
          [sequence, previousHash, at],
        );
        return rows.length;
      });
      total += taken;
      if (taken < SEQUENCE_BATCH) return total;
    }
  };

  // At most one pass in flight per store; a request during a pass runs another after it, so an entry
  // committed while a pass was reading is not left behind.
  let sequencing: Promise<void> | undefined;
  let sequenceAgain = false;
  const requestSequencing = (): void => {
    if (closed) return;
    if (sequencing) {
      sequenceAgain = true;
      return;
    }
    sequencing = (async () => {
      try {
        do {
          sequenceAgain = false;
          await sequenceCommitted();
        } while (sequenceAgain && !closed);
      } catch (error) {
        // The sweep below retries; entries stay committed and unsequenced meanwhile, never lost.
        if (!closed) console.error(`signoff: sequencing audit entries failed (retrying): ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        sequencing = undefined;
      }
    })();
  };
  /**
   * New requests are announced after they commit, many ids per `NOTIFY` (space-separated), at most
   * one in flight: a `NOTIFY` in the create's own transaction takes PostgreSQL's database-wide
   * notify lock until commit, so every create committed one at a time (2,000 vs 2,900 creates/s
   * here). Only watchers of new requests need this (the inbox's live list, the outbox dispatcher);
   * nobody waits on an id before its create answered, and decisions still notify in their
   * transaction. A replica that dies between a commit and its announcement leaves those requests
   * to be seen on the watchers' next read.
   */
  const createdToAnnounce: string[] = [];
  let announcing = false;
  const announceCreated = (id: string): void => {
    createdToAnnounce.push(id);
    if (announcing) return;
    announcing = true;
    setImmediate(() => {
      void (async () => {
        while (createdToAnnounce.length > 0 && !closed) {
          const ids = createdToAnnounce.splice(0, ANNOUNCED_PER_NOTIFY);
          await pool.query('SELECT pg_notify($1, $2)', [channel, ids.join(' ')]).catch((error: unknown) => {
            console.error(`signoff: announcing ${ids.length} new requests failed: ${error instanceof Error ? error.message : String(error)}`);
          });
        }
        announcing = false;
      })();
    });
  };
  /** Sequences everything committed so far, then reads: a write's entries are in the chain once its caller reads the log. */
  const sequenced = async <T>(read: () => Promise<T>): Promise<T> => {
    await sequenceCommitted();
    return read();
  };

  /** Reindexes a request left pending by a batched change (rare: the sweep's changes resolve); resolved ones are dropped in bulk. */
  const reindexIfPending = async (client: PoolClient, request: ApprovalRequest): Promise<void> => {
    if (request.status === 'pending') await reindex(client, request);
  };

  /**
   * Rewrites a request's actionable-index rows from its state, in the caller's transaction: one
   * statement that drops the rows the state no longer has and adds (or refreshes) the ones it has.
   */
  const reindex = async (client: PoolClient | pg.Client, request: ApprovalRequest): Promise<void> => {
    const rows = actionableIndexOf(request) ?? { roles: [], decidedBy: [] };
    await client.query({
      name: `${statementPrefix}reindex`,
      text: `WITH stale_roles AS (DELETE FROM ${prefix}request_roles WHERE request_id = $1 AND NOT (role = ANY($2::text[]))),
        stale_decided AS (DELETE FROM ${prefix}request_decided WHERE request_id = $1 AND NOT (reviewer = ANY($3::text[]))),
        roles AS (
          INSERT INTO ${prefix}request_roles (request_id, role, created_at, expires_at, requester, on_behalf_of, tool)
          SELECT $1, role, $4, $5, $6, $7, $8 FROM unnest($2::text[]) AS role
          ON CONFLICT (role, request_id) DO UPDATE SET expires_at = EXCLUDED.expires_at)
        INSERT INTO ${prefix}request_decided (request_id, reviewer) SELECT $1, reviewer FROM unnest($3::text[]) AS reviewer ON CONFLICT DO NOTHING`,
      values: [request.id, rows.roles, rows.decidedBy, request.createdAt, request.expiresAt, request.requester, request.onBehalfOf ?? null, request.tool],
    });
    const until = keepUntil(request);
    if (until) {
      await client.query({
        name: `${statementPrefix}keep`,
        text: `INSERT INTO ${prefix}request_retention (request_id, keep_until) VALUES ($1, $2) ON CONFLICT (request_id) DO UPDATE SET keep_until = EXCLUDED.keep_until`,
        values: [request.id, until],
      });
    }
  };

  /**
   * Writes what a change decided, in the caller's transaction: its events (the state event stamped),
   * then the state with the id of that event. `NOTIFY` is delivered only if it commits.
   */
  const applyChange = async (client: PoolClient, id: string, outcome: RequestChange<unknown>): Promise<void> => {
    const bound = bindRequestState(outcome.request, outcome.events);
    const entries = await appendEvents(client, bound.events);
    if (outcome.request && bound.state) {
      const request = outcome.request;
      await client.query(`UPDATE ${requests} SET status = $2, expires_at = $3, body = $4, audit_entry = $5, state_hash = $6 WHERE id = $1`, [
        id,
        request.status,
        request.expiresAt,
        requestToJson(request),
        entries[bound.state.index],
        bound.state.hash,
      ]);
      await reindex(client, request);
      await client.query('SELECT pg_notify($1, $2)', [channel, id]);
    }
    await enqueue(client, outcome.outbox);
  };

  const enqueue = async (client: PoolClient, messages: readonly OutboxMessageInput[] = []): Promise<void> => {
    for (const message of messages) {
      if (message.topic === 'email.digest') {
        await enqueueDigest(client, message);
        continue;
      }
      const columns = toOutboxColumns(message);
      await client.query(
        `INSERT INTO ${outbox} (id, channel, topic, request_id, target, next_attempt_at, created_at, payload) VALUES ($1, $2, $3, $4, $5, coalesce($7, now()), now(), $6)`,
        [newOutboxId(), columns.channel, columns.topic, columns.requestId, columns.target, columns.payload, 'dueAt' in message && message.dueAt ? message.dueAt : null],
      );
    }
  };
  /**
   * Joins the window's digest while no sender has claimed it, else its follow-up. `DO UPDATE` locks
   * the joined row until this transaction commits, and senders claim with `SKIP LOCKED`: a claim,
   * and the sender's read of what waits, come after this request is visible.
   */
  const enqueueDigest = async (client: PoolClient, message: Extract<OutboxMessageInput, { topic: 'email.digest' }>): Promise<void> => {
    const dueAt = dueAtOf(message, new Date());
    for (let notice = message.notice; ; ) {
      const columns = toOutboxColumns({ ...message, notice });
      const { rows } = await client.query<{ id: string; status: string; next_attempt_at: Date }>(
        `INSERT INTO ${outbox} (id, channel, topic, request_id, target, next_attempt_at, created_at, payload) VALUES ($1, $2, $3, $4, $5, $7, now(), $6)
         ON CONFLICT (channel, target, payload) WHERE topic = 'email.digest' DO UPDATE SET payload = EXCLUDED.payload
         RETURNING id, status, next_attempt_at`,
        [newOutboxId(), columns.channel, columns.topic, columns.requestId, columns.target, columns.payload, dueAt],
      );
      const row = rows[0]!;
      if (digestUnclaimed(row, dueAt)) return;
      notice = { ...message.notice, after: row.id };
    }
  };

  /**
   * The locks a checked create takes until commit, sent in the same message as its insert (or its
   * `BEGIN`) and always in this order (so two creates never wait on each other in a cycle): the requester's, only when a
   * budget counts its requests; then its idempotency key's and its de-duplication key's. Creates
   * that share none of these run side by side, on every replica; two that could take the same key,
   * fold into the same twin, or count against the same budget go one at a time, so the reads after
   * the lock see whatever the other committed. The keys' locks are 32-bit hashes computed here, so
   * what a client sent reaches the statement only as an integer.
   */
  const createLocks = (scope: { requester: string; key: string | null; dedupeKey: string | null; budget: boolean }): CreateLock[] => {
    const space = `${schema ?? ''}:${scope.requester}`;
    const hash = (text: string): string => String(createHash('sha256').update(text).digest().readInt32BE(0));
    const locks: CreateLock[] = [];
    // The requester's lock keeps `hashtext` (the agent key's name, from the config) so replicas of the previous release, which take it for every create, still exclude these.
    if (scope.budget) locks.push([REQUESTER_LOCK, `hashtext(${pg.escapeLiteral(space)})`]);
    if (scope.key !== null) locks.push([IDEMPOTENCY_KEY_LOCK, hash(`${space}:${scope.key}`)]);
    if (scope.dedupeKey !== null) locks.push([DEDUPE_KEY_LOCK, hash(`${space}:${scope.dedupeKey}`)]);
    return locks;
  };
  /**
   * The statement that takes a create's locks, in one order for every create (by kind, then key: a
   * batch holding several never waits on another in a cycle); `undefined` when it takes none.
   */
  const lockingStatement = (locks: readonly CreateLock[]): string | undefined => {
    const ordered = [...new Map(locks.map((lock) => [`${lock[0]}:${lock[1]}`, lock])).values()].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    return ordered.length === 0 ? undefined : `SELECT ${ordered.map(([lock, key]) => `pg_advisory_xact_lock(${lock}, ${key})`).join(', ')}`;
  };

  const createBatchStatement = `${statementPrefix}create_batch`;
  const createBatchText = createBatchSql(prefix);
  const preparedCreate = new WeakSet<PoolClient>();
  /**
   * Runs {@link createBatchSql} on this connection, after `locking` (if any), in one message; returns
   * the ids it wrote. Each connection prepares it once. It runs with its generic plan: it is the same
   * whatever the values, and planning it again for each create cost more than running it.
   */
  const executeCreates = async (client: PoolClient, items: readonly CreateBatchItem[], locking?: string): Promise<Set<string>> => {
    if (!preparedCreate.has(client)) {
      await client.query(`PREPARE ${createBatchStatement} (${CREATE_BATCH_TYPES.join(', ')}) AS ${createBatchText}`);
      preparedCreate.add(client);
    }
    const statements = ['SET LOCAL plan_cache_mode = force_generic_plan', locking, `EXECUTE ${createBatchStatement}(${createBatchArguments(items)})`];
    const answer = (await client.query(statements.filter(Boolean).join('; '))) as unknown as pg.QueryResult<{ id: string }>[];
    return new Set(answer.at(-1)?.rows.map((row) => row.id));
  };
  /** Writes a new request in the caller's transaction (its locks taken), unless something is in its way (see {@link createBatchSql}). Returns whether it wrote. */
  const tryInsertCreated = async (client: PoolClient, item: CreateBatchItem): Promise<boolean> => {
    if (!(await executeCreates(client, [item])).has(item.id)) return false;
    appendedIn.add(client);
    return true;
  };

  /**
   * Group commit of the common create (no budget to count, no digest to join): the
   * creates that arrive in one turn of the event loop are sent as one message — their locks, then
   * one insert of all of them — which PostgreSQL runs as one transaction, each statement in a
   * snapshot taken after the ones before it (so the insert sees what a lock holder committed).
   * Each resolves with whether it was written; one that was not (a key, alias or twin in its way)
   * takes the full path. A batch whose statement fails is retried one create at a time, so a create
   * that cannot be written fails alone. Round trips, parsing and commits are shared by the batch.
   */
  type WaitingCreate = { readonly item: CreateBatchItem; readonly locks: readonly CreateLock[]; resolve: (created: boolean) => void; reject: (error: unknown) => void };
  let waitingCreates: WaitingCreate[] = [];
  const createTogether = async (items: readonly CreateBatchItem[], locks: readonly CreateLock[]): Promise<Set<string>> => {
    const client = await pool.connect();
    let failed = false;
    try {
      const created = await executeCreates(client, items, lockingStatement(locks));
      if (created.size > 0) requestSequencing();
      return created;
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      client.release(failed);
    }
  };
  /** Batches sent and not yet settled: `close` lets them commit before its last sequencing pass. */
  const creatingBatches = new Set<Promise<void>>();
  const settleBatch = async (batch: readonly WaitingCreate[]): Promise<void> => {
    try {
      const created = await createTogether(
        batch.map((waiting) => waiting.item),
        batch.flatMap((waiting) => waiting.locks),
      );
      for (const waiting of batch) waiting.resolve(created.has(waiting.item.id));
    } catch (error) {
      if (batch.length === 1) return batch[0]?.reject(error);
      await Promise.all(
        batch.map(async (waiting) => {
          try {
            waiting.resolve((await createTogether([waiting.item], waiting.locks)).has(waiting.item.id));
          } catch (itsError) {
            waiting.reject(itsError);
          }
        }),
      );
    }
  };
  const flushCreates = (): void => {
    const waiting = waitingCreates;
    waitingCreates = [];
    // Bounded messages: a turn with more creates sends several batches, side by side on the pool.
    for (let start = 0; start < waiting.length; start += CREATES_PER_BATCH) {
      const settled = settleBatch(waiting.slice(start, start + CREATES_PER_BATCH));
      creatingBatches.add(settled);
      void settled.finally(() => creatingBatches.delete(settled));
    }
  };
  const createSoon = (item: CreateBatchItem, locks: readonly CreateLock[]): Promise<boolean> =>
    new Promise((resolve, reject) => {
      if (waitingCreates.push({ item, locks, resolve, reject }) === 1) setImmediate(flushCreates);
    });

  /**
   * Checks a row locked `FOR UPDATE` against its chain. The evidence is read by a second statement
   * on purpose: after waiting for the lock, PostgreSQL re-reads the locked row but evaluates the
   * rest of that statement in its old snapshot, which cannot see the audit entry the writer we
   * waited for committed — a join would report a fresh, honest state as tampered.
   */
  const checkLocked = async (client: PoolClient, row: Pick<RequestRow, 'id' | 'body' | 'state_hash' | 'audit_sequence'>): Promise<RequestRowCheck> => {
    const { rows } = await client.query<Pick<RequestRow, 'entry_body' | 'entry_sequence' | 'newest_state_sequence'>>({
      name: `${statementPrefix}evidence`,
      text: `SELECT (SELECT body FROM ${audit} WHERE id = $2) AS entry_body, (SELECT sequence FROM ${audit} WHERE id = $2) AS entry_sequence,
              (SELECT max(id) FROM ${audit} WHERE request_id = $1 AND state_hash IS NOT NULL) AS newest_state_sequence`,
      values: [row.id, row.audit_sequence],
    });
    return checkRequestRowColumns({ ...row, entry_body: rows[0]?.entry_body ?? null, entry_sequence: rows[0]?.entry_sequence ?? null, newest_state_sequence: rows[0]?.newest_state_sequence ?? null }, 'entry');
  };
  // `audit_sequence` in a row read here is the entry id (`audit_entry`): PostgreSQL rows name their entry by id.
  const lockedColumns = 'id, body, state_hash, audit_entry AS audit_sequence';
  const selectRows = selectRequestRows(prefix, 'entry');

  /** Audits a refused tampered row in its own transaction; `once` skips it when that is already the request's newest event (the sweeper retries every few seconds). */
  const recordTampering = async (id: string, problems: readonly string[], once: boolean) => {
    const tampered = stateTampered(id, problems);
    await transaction(async (client) => {
      if (once) {
        // Per request: two replicas sweeping at once log it once.
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [AUDIT_LOCK, `${schema ?? ''}:tampered:${id}`]);
        const { rows } = await client.query<{ body: string }>(`SELECT body FROM ${audit} WHERE request_id = $1 ORDER BY id DESC LIMIT 1`, [id]);
        if (rows[0] && (JSON.parse(rows[0].body) as AuditEntry).type === 'state.tampered') return;
      }
      await appendEvents(client, [tampered.event]);
    });
    return tampered.error;
  };

  /**
   * Binds each row of a database from before state binding as found, with one `request.updated`
   * event. Trust on first use, once: it runs only in the migration that adds the columns, so a row
   * without a binding found later is refused as tampered.
   */
  const bindFoundRows = async (client: PoolClient): Promise<void> => {
    const { rows } = await client.query<{ id: string; body: string }>(`SELECT id, body FROM ${requests} ORDER BY created_at, id`);
    for (const row of rows) {
      const bound = bindRequestState(requestFromJson(row.body), [adoptionEvent(row.id)]);
      const [entry] = await appendEvents(client, bound.events);
      await client.query(`UPDATE ${requests} SET audit_entry = $2, state_hash = $3 WHERE id = $1`, [row.id, entry, bound.state?.hash]);
    }
  };

  /** Applies each named migration not yet recorded in `signoff_migrations`, in order (under the DDL lock). */
  const runMigrations = async (client: PoolClient): Promise<void> => {
    await client.query(`CREATE TABLE IF NOT EXISTS ${prefix}signoff_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`);
    const { rows } = await client.query<{ name: string }>(`SELECT name FROM ${prefix}signoff_migrations`);
    const applied = new Set(rows.map((row) => row.name));
    for (const migration of postgresMigrations(schema)) {
      if (applied.has(migration.name)) continue;
      await client.query(migration.sql);
      if (migration.name === '0001-actionable-index') {
        const { rows: pending } = await client.query<{ body: string }>(`SELECT body FROM ${requests} WHERE status = 'pending'`);
        for (const row of pending) await reindex(client, requestFromJson(row.body));
      }
      if (migration.name === '0002-retention') {
        const { rows: resolved } = await client.query<{ body: string }>(`SELECT body FROM ${requests} WHERE status <> 'pending'`);
        for (const row of resolved) {
          const request = requestFromJson(row.body);
          await client.query(`INSERT INTO ${prefix}request_retention (request_id, keep_until) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [request.id, keepUntil(request)]);
        }
      }
      await client.query(`INSERT INTO ${prefix}signoff_migrations (name, applied_at) VALUES ($1, now())`, [migration.name]);
    }
  };

  // Create the tables once, even when several replicas start at the same moment; a database from
  // before state binding gets the new columns and its rows bound as found (once, under the lock).
  try {
    await transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, 0)', [DDL_LOCK]);
      const { rows: columns } = await client.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = coalesce($1, current_schema()) AND table_name = 'approval_requests'`,
        [schema ?? null],
      );
      const unbound = columns.length > 0 && !columns.some((column) => column.column_name === 'state_hash');
      await client.query(postgresSchemaSql(schema));
      await runMigrations(client);
      if (unbound) await bindFoundRows(client);
    });
  } catch (error) {
    await pool.end();
    throw error;
  }

  // Change notifications: one dedicated connection per store LISTENs, and reconnects when it drops.
  // TCP keepalive and a periodic liveness query find a connection that died silently; after every
  // reconnect the listeners hear ANY_REQUEST, since notifications sent meanwhile are lost.
  const listeners = new Set<(id: string) => void>();
  let listenClient: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = RETRY_MIN_MS;
  let connectedBefore = false;
  const announce = (id: string): void => {
    for (const listener of listeners) {
      try {
        listener(id);
      } catch (error) {
        console.error('signoff: request change listener failed', error);
      }
    }
  };
  const liveness = setInterval(() => {
    const client = listenClient;
    if (!client) return;
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${LIVENESS_TIMEOUT_MS} ms`)), LIVENESS_TIMEOUT_MS).unref());
    Promise.race([client.query('SELECT 1'), timeout]).catch((error: unknown) => client.emit('error', error instanceof Error ? error : new Error(String(error))));
  }, LIVENESS_INTERVAL_MS);
  liveness.unref();

  const connectListener = async (): Promise<void> => {
    // Named, so operators (and tests) can tell the notification connection apart in pg_stat_activity.
    const client = new pg.Client({ connectionString, keepAlive: true, keepAliveInitialDelayMillis: 10_000, application_name: `signoff-listen${schema === undefined ? '' : `:${schema}`}`.slice(0, 63) });
    client.on('notification', (message) => {
      // One id, ANY_REQUEST, or several created ids separated by spaces (see announceCreated).
      if (message.channel === channel && message.payload) for (const id of message.payload.split(' ')) announce(id);
    });
    const lost = (error?: Error): void => {
      if (closed || listenClient !== client) return;
      console.error(`signoff: PostgreSQL LISTEN connection lost (${error?.message ?? 'ended'}), reconnecting`);
      listenClient = undefined;
      client.end().catch(() => undefined);
      scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (closed) return void (await client.end());
    listenClient = client;
    retryDelay = RETRY_MIN_MS;
    if (connectedBefore) announce(ANY_REQUEST);
    connectedBefore = true;
  };
  const scheduleReconnect = (): void => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connectListener().catch((error: unknown) => {
        console.error(`signoff: PostgreSQL LISTEN reconnect failed (${error instanceof Error ? error.message : String(error)}), retrying in ${retryDelay} ms`);
        scheduleReconnect();
      });
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  };

  try {
    await connectListener();
  } catch (error) {
    await pool.end();
    throw error;
  }

  // Every replica sequences: after its own commits, and on a slow sweep for entries a replica that
  // died after committing left (and at start, for those a stopped cluster left).
  const sequencerSweep = setInterval(requestSequencing, SEQUENCER_SWEEP_MS);
  sequencerSweep.unref();
  requestSequencing();

  return {
    async createRequest(request, events, outboxMessages) {
      const bound = bindRequestState(request, events);
      const outcome = await transaction(async (client): Promise<{ existing: RequestRow } | { created: ApprovalRequest }> => {
        // The unique (requester, idempotency_key) decides races: a concurrent twin waits for ours, then does nothing.
        // The events are logged only once the row is ours, so the entry id is set after.
        const inserted = await client.query(
          `INSERT INTO ${requests} (id, requester, idempotency_key, status, tool, created_at, expires_at, body, state_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (requester, idempotency_key) DO NOTHING`,
          [request.id, request.requester, request.idempotencyKey ?? null, request.status, request.tool, request.createdAt, request.expiresAt, requestToJson(request), bound.state?.hash],
        );
        if (inserted.rowCount === 0) {
          const { rows } = await client.query<RequestRow>(`${selectRows} WHERE r.requester = $1 AND r.idempotency_key = $2`, [request.requester, request.idempotencyKey]);
          const existing = rows[0];
          if (!existing) throw new Error(`request with idempotency key '${request.idempotencyKey}' conflicted but cannot be read`);
          return { existing };
        }
        const entries = await appendEvents(client, bound.events);
        await client.query(`UPDATE ${requests} SET audit_entry = $2 WHERE id = $1`, [request.id, bound.state && entries[bound.state.index]]);
        await reindex(client, request);
        await enqueue(client, outboxMessages);
        await client.query('SELECT pg_notify($1, $2)', [channel, request.id]);
        return { created: request };
      });
      return 'existing' in outcome ? { request: checkedRequest(outcome.existing, 'entry'), created: false } : { request: outcome.created, created: true };
    },
    async createRequestChecked(request, events, outboxMessages, checks): Promise<CheckedCreation> {
      const bound = bindRequestState(request, events);
      const escalates = request.status === 'pending';
      const now = checks.now;
      const key = request.idempotencyKey ?? null;
      const dedupeKey = escalates && checks.dedupe ? checks.dedupe.key : null;
      type Outcome = { existing: RequestRow; kind: 'replayed' | 'deduplicated' } | { created: ApprovalRequest } | { overBudget: CheckedCreation & { kind: 'over_budget' } };
      const locks = createLocks({ requester: request.requester, key, dedupeKey, budget: escalates && checks.budget !== undefined });
      // Digests are joined with a read first (enqueueDigest); every other message is written with the request.
      const digests = outboxMessages.filter((message) => message.topic === 'email.digest');
      const item = createBatchItem(request, bound, dedupeKey, outboxMessages.filter((message): message is PlainOutboxMessage => message.topic !== 'email.digest'));
      const common = !(escalates && checks.budget);
      if (common && digests.length === 0 && (await createSoon(item, locks))) {
        announceCreated(request.id);
        return { kind: 'created', request };
      }
      const locking = lockingStatement(locks);
      const outcome = await transaction(async (client): Promise<Outcome> => {
        // Under the locks, a common create with a digest to join tries the insert first (the others
        // just tried it together, and something was in their way): with no key, alias or pending twin
        // in the way, the insert is the whole create; anything in its way, and it is read below.
        if (common && digests.length > 0 && (await tryInsertCreated(client, item))) {
          await enqueue(client, digests);
          return { created: request };
        }
        // One read for both: the request this key already made (or was folded into), else the pending twin.
        const { rows: found } = await client.query<RequestRow & { found: 'key' | 'twin' }>({
          name: `${statementPrefix}create_lookup`,
          text: `(SELECT 'key' AS found, q.* FROM (${selectRows} WHERE r.requester = $1 AND (r.idempotency_key = $2 OR r.id IN (SELECT k.request_id FROM ${prefix}request_aliases k WHERE k.requester = $1 AND k.idempotency_key = $2)) LIMIT 1) AS q)
            UNION ALL (SELECT 'twin', t.* FROM (${selectRows} WHERE r.requester = $1 AND r.dedupe_key = $3 AND r.status = 'pending' LIMIT 1) AS t)`,
          values: [request.requester, key, dedupeKey],
        });
        const replayed = found.find((row) => row.found === 'key');
        if (replayed) return { existing: replayed, kind: 'replayed' };
        const twin = found.find((row) => row.found === 'twin');
        if (twin && checks.dedupe) {
          const check = checkRequestRowColumns(twin, 'entry');
          // An overdue twin is about to expire: it leaves the de-duplication index and a new request opens.
          if (check.ok && Date.parse(check.request.expiresAt) <= now.getTime()) await client.query(`UPDATE ${requests} SET dedupe_key = NULL WHERE id = $1`, [twin.id]);
          else if (check.ok) {
            if (key !== null) {
              await client.query(`INSERT INTO ${prefix}request_aliases (requester, idempotency_key, request_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [request.requester, key, twin.id]);
            }
            await appendEvents(client, bindRequestState(undefined, checks.dedupe.events(check.request)).events);
            return { existing: twin, kind: 'deduplicated' };
          } else return { existing: twin, kind: 'deduplicated' }; // tampered: reading it below refuses, fail-closed
        }
        if (escalates && checks.budget) {
          // Counted only up to each limit: a budget costs at most `limit` index entries per create.
          const { maxPending, maxPerHour } = checks.budget;
          const pending = maxPending === undefined ? 0 : Number((await client.query<{ count: string }>(
            `SELECT count(*) AS count FROM (SELECT 1 FROM ${requests} WHERE requester = $1 AND status = 'pending' AND expires_at > $2 LIMIT $3) AS counted`, [request.requester, now, maxPending])).rows[0]?.count ?? 0);
          const recent = maxPerHour === undefined ? 0 : Number((await client.query<{ count: string }>(
            `SELECT count(*) AS count FROM (SELECT 1 FROM ${requests} WHERE requester = $1 AND escalated AND created_at > $2 LIMIT $3) AS counted`, [request.requester, new Date(now.getTime() - 3_600_000), maxPerHour])).rows[0]?.count ?? 0);
          const exceeded = overBudget(checks.budget, { pending: () => pending, sinceHour: () => recent });
          if (exceeded) {
            const { rows } = await client.query<{ notified_at: Date; open: boolean }>(`SELECT notified_at, open FROM ${prefix}budget_breaches WHERE requester = $1 AND budget = $2`, [request.requester, exceeded.budget]);
            const breach = rows[0];
            const first = !breach || (!breach.open && breach.notified_at.getTime() <= now.getTime() - BUDGET_NOTICE_QUIET_MS);
            await client.query(
              first
                ? `INSERT INTO ${prefix}budget_breaches (requester, budget, notified_at, open) VALUES ($1, $2, $3, true) ON CONFLICT (requester, budget) DO UPDATE SET notified_at = excluded.notified_at, open = true`
                : `UPDATE ${prefix}budget_breaches SET open = true WHERE requester = $1 AND budget = $2`,
              first ? [request.requester, exceeded.budget, now] : [request.requester, exceeded.budget],
            );
            const refusal = checks.budget.refusal(exceeded, first);
            await appendEvents(client, bindRequestState(undefined, refusal.events).events);
            await enqueue(client, refusal.outbox);
            return { overBudget: { kind: 'over_budget', exceeded, notified: first } };
          }
        }
        // Under the locks a conflict left can only be a write that bypassed them (a plain create, a reused id): refuse rather than guess.
        if (!(await tryInsertCreated(client, item))) throw new Error(`request ${request.id} conflicts with a request created outside the checked path`);
        await enqueue(client, digests);
        return { created: request };
      }, locking ? `BEGIN; ${locking}` : 'BEGIN');
      if ('overBudget' in outcome) return outcome.overBudget;
      if ('existing' in outcome) return { kind: outcome.kind, request: checkedRequest(outcome.existing, 'entry') };
      announceCreated(request.id);
      return { kind: 'created', request: outcome.created };
    },
    async createRequests(items) {
      if (items.length === 0) return;
      await transaction(async (client) => {
        // Entry ids drawn up front (ascending), entries written unsequenced like any write, one
        // statement per table and chunk: an import is a few round trips, not a few per request.
        const bindings = items.map(({ request, events }) => ({ request, bound: bindRequestState(request, events) }));
        const count = bindings.reduce((sum, item) => sum + item.bound.events.length, 0);
        const { rows: drawn } = await client.query<{ id: string }>(`SELECT nextval(${pg.escapeLiteral(`${prefix}audit_log_entry_id`)}) AS id FROM generate_series(1, $1)`, [count]);
        const ids = drawn.map((row) => Number(row.id)).sort((a, b) => a - b);
        let next = 0;
        const columns = { audit: [[], [], [], []] as unknown[][], requests: [[], [], [], [], [], [], [], [], [], []] as unknown[][], roles: [[], [], [], [], [], [], []] as unknown[][], decided: [[], []] as unknown[][], retention: [[], []] as unknown[][] };
        const push = (target: unknown[][], values: readonly unknown[]) => values.forEach((value, index) => target[index]?.push(value));
        for (const { request, bound } of bindings) {
          let stateEntry: number | undefined;
          for (const [index, event] of bound.events.entries()) {
            const id = ids[next++] as number;
            if (index === bound.state?.index) stateEntry = id;
            push(columns.audit, [id, JSON.stringify(event), event.requestId ?? null, event.stateHash ?? null]);
          }
          push(columns.requests, [request.id, request.requester, request.idempotencyKey ?? null, request.status, request.tool, request.createdAt, request.expiresAt, requestToJson(request), stateEntry ?? null, bound.state?.hash ?? null]);
          const index = actionableIndexOf(request);
          for (const role of index?.roles ?? []) push(columns.roles, [request.id, role, request.createdAt, request.expiresAt, request.requester, request.onBehalfOf ?? null, request.tool]);
          for (const reviewer of index?.decidedBy ?? []) push(columns.decided, [request.id, reviewer]);
          const until = keepUntil(request);
          if (until) push(columns.retention, [request.id, until]);
        }
        const insertColumns = async (table: string, names: string, types: readonly string[], values: unknown[][]) => {
          const total = values[0]?.length ?? 0;
          for (let start = 0; start < total; start += 10_000) {
            const chunk = values.map((column) => column.slice(start, start + 10_000));
            await client.query(`INSERT INTO ${table} (${names}) SELECT * FROM unnest(${types.map((type, index) => `$${index + 1}::${type}[]`).join(', ')})`, chunk);
          }
        };
        await client.query(
          `INSERT INTO ${audit} (id, body, request_id, state_hash, logged_at) SELECT x.*, clock_timestamp() FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS x ORDER BY 1`,
          columns.audit.slice(0, 4),
        );
        appendedIn.add(client);
        await insertColumns(requests, 'id, requester, idempotency_key, status, tool, created_at, expires_at, body, audit_entry, state_hash', ['text', 'text', 'text', 'text', 'text', 'timestamptz', 'timestamptz', 'text', 'bigint', 'text'], columns.requests);
        await insertColumns(`${prefix}request_roles`, 'request_id, role, created_at, expires_at, requester, on_behalf_of, tool', ['text', 'text', 'timestamptz', 'timestamptz', 'text', 'text', 'text'], columns.roles);
        await insertColumns(`${prefix}request_decided`, 'request_id, reviewer', ['text', 'text'], columns.decided);
        await insertColumns(`${prefix}request_retention`, 'request_id, keep_until', ['text', 'timestamptz'], columns.retention);
        // One notification for the batch: listeners re-read what they watch.
        await client.query('SELECT pg_notify($1, $2)', [channel, ANY_REQUEST]);
      });
    },
    async getRequest(id) {
      const { rows } = await pool.query<RequestRow>({ name: `${statementPrefix}get`, text: `${selectRows} WHERE r.id = $1`, values: [id] });
      return rows[0] && checkedRequest(rows[0], 'entry');
    },
    async listRequests(filter: ApprovalFilter = {}) {
      const where: string[] = [];
      const values: unknown[] = [];
      for (const [column, value] of [['status', filter.status], ['tool', filter.tool], ['requester', filter.requester], ['idempotency_key', filter.idempotencyKey]] as const) {
        if (value) (values.push(value), where.push(`r.${column} = $${values.length}`));
      }
      // A key folded into another request (de-duplication) finds that request too.
      if (filter.idempotencyKey) {
        const keyAt = where.findIndex((clause) => clause.startsWith('r.idempotency_key'));
        where[keyAt] = `(${where[keyAt]} OR r.id IN (SELECT k.request_id FROM ${prefix}request_aliases k WHERE k.idempotency_key = $${values.indexOf(filter.idempotencyKey) + 1} AND k.requester = r.requester))`;
      }
      const deadline = filter.order === 'deadline';
      if (deadline && filter.after) {
        values.push(filter.after.expiresAt, filter.after.id);
        where.push(`(r.expires_at > $${values.length - 1} OR (r.expires_at = $${values.length - 1} AND r.id > $${values.length}))`);
      }
      if (!deadline && filter.before) {
        values.push(filter.before.createdAt, filter.before.id);
        where.push(`(r.created_at < $${values.length - 1} OR (r.created_at = $${values.length - 1} AND r.id < $${values.length}))`);
      }
      if (filter.statuses) (values.push([...filter.statuses]), where.push(`r.status = ANY($${values.length}::text[])`));
      if (filter.createdSince !== undefined) (values.push(isoInstant(filter.createdSince, 'createdSince')), where.push(`r.created_at >= $${values.length}::timestamptz`));
      if (filter.createdUntil !== undefined) (values.push(isoInstant(filter.createdUntil, 'createdUntil')), where.push(`r.created_at < $${values.length}::timestamptz`));
      // \`json\`, not \`jsonb\`: bodies may hold \u0000, which only \`json\` accepts; decisions are read without unescaping.
      if (filter.reviewer !== undefined) (values.push(filter.reviewer), where.push(`EXISTS (SELECT 1 FROM json_array_elements(r.body::json -> 'decisions') d WHERE d ->> 'reviewer' = $${values.length})`));
      if (filter.search) (values.push(filter.search), where.push(`strpos(lower(r.body), lower($${values.length})) > 0`));
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      const order = deadline ? 'r.expires_at ASC, r.id ASC' : 'r.created_at DESC, r.id DESC';
      const sql = `${selectRows} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit}`;
      const { rows } = await pool.query<RequestRow>(sql, values);
      return checkRequestRows(rows, 'entry');
    },
    async listActionable(query) {
      const values: unknown[] = [];
      const sql = actionableSql(query, { prefix, param: (value) => (values.push(value), `$${values.length}`), reference: 'entry' });
      const { rows } = await pool.query<RequestRow>(sql, values);
      return checkRequestRows(rows, 'entry');
    },
    async countActionable(query) {
      const values: unknown[] = [];
      const sql = actionableCountSql(query, { prefix, param: (value) => (values.push(value), `$${values.length}`) });
      const { rows } = await pool.query<{ total: string }>(sql, values);
      return Number(rows[0]?.total ?? 0);
    },
    async updateRequest<T>(id: string, change: (current: ApprovalRequest) => RequestChange<T>): Promise<T | undefined> {
      type Update = { found: false } | { found: true; tampered: readonly string[] } | { found: true; result: T };
      const outcome = await transaction(async (client): Promise<Update> => {
        const { rows } = await client.query<RequestRow>(`SELECT ${lockedColumns} FROM ${requests} WHERE id = $1 FOR UPDATE`, [id]);
        if (!rows[0]) return { found: false };
        const check = await checkLocked(client, rows[0]);
        // Fail closed before `change` runs: nothing a tampered row says may decide anything.
        if (!check.ok) return { found: true, tampered: check.problems };
        const outcome = change(check.request);
        await applyChange(client, id, outcome);
        return { found: true, result: outcome.result };
      });
      if (!outcome.found) return undefined;
      if ('tampered' in outcome) throw await recordTampering(id, outcome.tampered, false);
      return outcome.result;
    },
    async updateOverdue(now, limit, change) {
      // One transaction per batch, a few statements per batch rather than per request: a burst of
      // 100,000 expiries is a few hundred round trips of work per thousand. SKIP LOCKED lets replicas
      // sweep disjoint batches side by side; each expiry is written with its audit entry and deliveries.
      const outcome = await transaction(async (client) => {
        const { rows } = await client.query<Pick<RequestRow, 'id' | 'body' | 'state_hash' | 'audit_sequence'>>(
          `SELECT ${lockedColumns} FROM ${requests} WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [now, limit],
        );
        if (rows.length === 0) return { changed: [] as string[], tampered: [] as { id: string; problems: readonly string[] }[] };
        // The evidence in a second statement, for the reason `checkLocked` gives.
        const { rows: evidence } = await client.query<Pick<RequestRow, 'id' | 'entry_body' | 'entry_sequence' | 'newest_state_sequence'>>(
          `SELECT x.id, (SELECT body FROM ${audit} WHERE id = x.entry) AS entry_body, (SELECT sequence FROM ${audit} WHERE id = x.entry) AS entry_sequence,
             (SELECT max(id) FROM ${audit} WHERE request_id = x.id AND state_hash IS NOT NULL) AS newest_state_sequence
           FROM unnest($1::text[], $2::bigint[]) AS x(id, entry)`,
          [rows.map((row) => row.id), rows.map((row) => row.audit_sequence)],
        );
        const evidenceOf = new Map(evidence.map((row) => [row.id, row]));
        const tampered: { id: string; problems: readonly string[] }[] = [];
        const changes: { request: ApprovalRequest; bound: ReturnType<typeof bindRequestState>; outbox: readonly OutboxMessageInput[] }[] = [];
        const events: AuditEventInput[] = [];
        for (const row of rows) {
          const found = evidenceOf.get(row.id);
          const check = checkRequestRowColumns({ ...row, entry_body: found?.entry_body ?? null, entry_sequence: found?.entry_sequence ?? null, newest_state_sequence: found?.newest_state_sequence ?? null }, 'entry');
          if (!check.ok) {
            tampered.push({ id: row.id, problems: check.problems });
            continue;
          }
          const result = change(check.request);
          if (!result.request) {
            events.push(...bindRequestState(undefined, result.events).events);
            continue;
          }
          const bound = bindRequestState(result.request, result.events);
          changes.push({ request: result.request, bound: { ...bound, ...(bound.state ? { state: { ...bound.state, index: events.length + bound.state.index } } : {}) }, outbox: result.outbox ?? [] });
          events.push(...bound.events);
        }
        const entries = await appendEvents(client, events);
        if (changes.length > 0) {
          await client.query(
            `UPDATE ${requests} AS r SET status = x.status, expires_at = x.expires_at, body = x.body, audit_entry = x.audit_entry, state_hash = x.state_hash
             FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[], $6::text[]) AS x(id, status, expires_at, body, audit_entry, state_hash)
             WHERE r.id = x.id`,
            [
              changes.map((item) => item.request.id),
              changes.map((item) => item.request.status),
              changes.map((item) => item.request.expiresAt),
              changes.map((item) => requestToJson(item.request)),
              changes.map((item) => (item.bound.state ? entries[item.bound.state.index] : null)),
              changes.map((item) => item.bound.state?.hash ?? null),
            ],
          );
          for (const item of changes) await reindexIfPending(client, item.request);
          await client.query(`DELETE FROM ${prefix}request_roles WHERE request_id = ANY($1::text[])`, [changes.filter((item) => item.request.status !== 'pending').map((item) => item.request.id)]);
          await client.query(`DELETE FROM ${prefix}request_decided WHERE request_id = ANY($1::text[])`, [changes.filter((item) => item.request.status !== 'pending').map((item) => item.request.id)]);
          const kept = changes.flatMap((item) => {
            const until = keepUntil(item.request);
            return until ? [{ id: item.request.id, until }] : [];
          });
          await client.query(
            `INSERT INTO ${prefix}request_retention (request_id, keep_until) SELECT * FROM unnest($1::text[], $2::timestamptz[])
             ON CONFLICT (request_id) DO UPDATE SET keep_until = EXCLUDED.keep_until`,
            [kept.map((item) => item.id), kept.map((item) => item.until)],
          );
          const messages = changes.flatMap((item) => item.outbox.map(toOutboxColumns));
          if (messages.length > 0) {
            await client.query(
              `INSERT INTO ${outbox} (id, channel, topic, request_id, target, next_attempt_at, created_at, payload)
               SELECT x.id, x.channel, x.topic, x.request_id, x.target, now(), now(), x.payload FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(id, channel, topic, request_id, target, payload)`,
              [messages.map(() => newOutboxId()), messages.map((m) => m.channel), messages.map((m) => m.topic), messages.map((m) => m.requestId), messages.map((m) => m.target), messages.map((m) => m.payload)],
            );
          }
          await client.query('SELECT pg_notify($1, id) FROM unnest($2::text[]) AS id', [channel, changes.map((item) => item.request.id)]);
        }
        return { changed: changes.map((item) => item.request.id), tampered };
      });
      for (const { id, problems } of outcome.tampered) await recordTampering(id, problems, true);
      return outcome.changed.length;
    },
    async claimOutbox(now, limit, leaseMs) {
      // SKIP LOCKED lets replicas claim disjoint batches; the lease hides a claim until it is settled or abandoned.
      return transaction(async (client) => {
        const { rows } = await client.query<OutboxRow>(
          `UPDATE ${outbox} SET next_attempt_at = $2 WHERE id IN (
             SELECT id FROM ${outbox} WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED
           ) RETURNING id, channel, topic, request_id, target, attempts, created_at, last_error, payload`,
          [now, new Date(now.getTime() + leaseMs), limit],
        );
        return rows.map(fromOutboxRow).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      });
    },
    async settleOutbox(id, settlement, events = []) {
      await transaction(async (client) => {
        await client.query(
          `UPDATE ${outbox} SET status = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4 WHERE id = $1`,
          [id, settlement.outcome === 'retry' ? 'pending' : settlement.outcome, settlement.outcome === 'retry' ? settlement.at : new Date(), settlement.outcome === 'delivered' ? null : settlement.error],
        );
        await appendEvents(client, bindRequestState(undefined, events).events);
      });
    },
    async appendAudit(events) {
      await transaction((client) => appendEvents(client, bindRequestState(undefined, events).events));
    },
    async enqueueOutbox(messages) {
      await transaction((client) => enqueue(client, messages));
    },
    // Reads of the log sequence what is committed first: what a caller wrote is in the chain it reads.
    async readAudit() {
      const { rows } = await sequenced(() => pool.query<{ body: string }>(`SELECT body FROM ${audit} WHERE sequence IS NOT NULL ORDER BY sequence`));
      return rows.map((row) => JSON.parse(row.body) as AuditEntry);
    },
    async readRequestAudit(requestId) {
      const { rows } = await sequenced(() => pool.query<{ body: string }>(`SELECT body FROM ${audit} WHERE request_id = $1 AND sequence IS NOT NULL ORDER BY sequence`, [requestId]));
      return rows.map((row) => JSON.parse(row.body) as AuditEntry);
    },
    async readAuditPage(after, limit) {
      // The first page sequences first (a reader walking the log from the start); later ones continue that walk.
      const read = () => pool.query<{ body: string }>(`SELECT body FROM ${audit} WHERE sequence > $1 ORDER BY sequence LIMIT $2`, [after, limit]);
      const { rows } = await (after === 0 ? sequenced(read) : read());
      return rows.map((row) => JSON.parse(row.body) as AuditEntry);
    },
    async planArchive(cutoff, options = {}) {
      // Sequenced first: the plan's range and the rows it pins are read off the chain as it is now.
      await sequenceCommitted();
      const { rows } = await pool.query<{ first: string | null; last: string | null; pinned: string | null }>(
        `SELECT (SELECT min(sequence) FROM ${audit}) AS first, (SELECT max(sequence) FROM ${audit}) AS last,
           (SELECT min(a.sequence) FROM ${requests} r JOIN ${audit} a ON a.id = r.audit_entry LEFT JOIN ${prefix}request_retention k ON k.request_id = r.id
            WHERE r.status = 'pending' OR k.request_id IS NULL OR k.keep_until > $1) AS pinned`,
        [cutoff],
      );
      const bounds = rows[0];
      if (!bounds || bounds.first === null || bounds.last === null) return undefined;
      const from = Number(bounds.first);
      let to = Math.min(Number(bounds.last), (bounds.pinned === null ? Number.POSITIVE_INFINITY : Number(bounds.pinned)) - 1);
      if (to < from) return undefined;
      // Every row up to `to` may go (the pin): stop before the state entry of the one after the cap.
      if (options.maxRequests !== undefined) {
        const { rows: next } = await pool.query<{ sequence: string }>(
          `SELECT a.sequence FROM ${audit} a JOIN ${requests} r ON r.audit_entry = a.id WHERE a.sequence <= $1 ORDER BY a.sequence LIMIT 1 OFFSET $2`,
          [to, Math.max(1, Math.trunc(options.maxRequests))],
        );
        if (next[0]) to = Number(next[0].sequence) - 1;
      }
      const { rowCount } = await pool.query(
        `SELECT 1 FROM ${prefix}request_retention k JOIN ${requests} r ON r.id = k.request_id JOIN ${audit} a ON a.id = r.audit_entry WHERE k.keep_until <= $1 AND a.sequence <= $2 LIMIT 1`,
        [cutoff, to],
      );
      return (rowCount ?? 0) === 0 ? undefined : { from, to, cutoff };
    },
    async readArchivableRows(plan, afterId, limit) {
      const { rows } = await pool.query<RequestRow>(
        `SELECT r.id, r.body, r.state_hash, a.sequence AS audit_sequence FROM ${prefix}request_retention k JOIN ${requests} r ON r.id = k.request_id JOIN ${audit} a ON a.id = r.audit_entry
         WHERE k.keep_until <= $1 AND a.sequence <= $2 AND k.request_id > $3 ORDER BY k.request_id LIMIT $4`,
        [plan.cutoff, plan.to, afterId, limit],
      );
      return rows.map(toStoredRequestState);
    },
    async commitArchive(plan, rows, event) {
      return transaction(async (client) => {
        // The audit lock first: no sequencer chains (and no other run archives) while the log's start is checked and cut.
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [AUDIT_LOCK, schema ?? '']);
        const { rows: first } = await client.query<{ first: string | null }>(`SELECT min(sequence) AS first FROM ${audit}`);
        if (first[0]?.first === null || Number(first[0]?.first) !== plan.from) return false;
        // Fenced: a run whose lease lapsed and went to another replica must not cut the log under it.
        // FOR UPDATE: a takeover waits for this commit (then finds the log moved on).
        if (plan.lease) {
          const { rowCount } = await client.query(`SELECT 1 FROM ${prefix}signoff_leases WHERE name = $1 AND holder = $2 AND expires_at > clock_timestamp() FOR UPDATE`, [plan.lease.name, plan.lease.holder]);
          if ((rowCount ?? 0) === 0) return false;
        }
        for (let start = 0; start < rows.length; start += 10_000) {
          const chunk = rows.slice(start, start + 10_000);
          const { rows: locked } = await client.query<{ n: string }>(
            `SELECT count(*) AS n FROM (SELECT r.id FROM ${requests} r JOIN unnest($1::text[], $2::bigint[]) AS x(id, sequence) ON r.id = x.id JOIN ${audit} a ON a.id = r.audit_entry AND a.sequence = x.sequence FOR UPDATE OF r) AS matched`,
            [chunk.map((row) => row.id), chunk.map((row) => row.auditSequence ?? null)],
          );
          if (Number(locked[0]?.n) !== chunk.length) throw new ArchiveMoved();
        }
        // Logged with the cut; the sequencer chains it after the head kept in audit_head (the cut may take every sequenced entry).
        await appendEvents(client, bindRequestState(undefined, [event]).events);
        for (let start = 0; start < rows.length; start += 10_000) {
          const ids = rows.slice(start, start + 10_000).map((row) => row.id);
          await client.query(`DELETE FROM ${requests} WHERE id = ANY($1::text[])`, [ids]);
          await client.query(`DELETE FROM ${prefix}request_retention WHERE request_id = ANY($1::text[])`, [ids]);
        }
        await client.query(`DELETE FROM ${audit} WHERE sequence <= $1`, [plan.to]);
        return true;
      }).catch((error: unknown) => {
        if (error instanceof ArchiveMoved) return false;
        throw error;
      });
    },
    async acquireLease(lease) {
      // Inserted, or taken over when ours already or run out (the database's clock, so replicas' skew does not matter).
      const { rowCount } = await pool.query(
        `INSERT INTO ${prefix}signoff_leases AS lease (name, holder, expires_at) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE lease.holder = EXCLUDED.holder OR lease.expires_at <= clock_timestamp()`,
        [lease.name, lease.holder, lease.ttlMs],
      );
      return rowCount === 1;
    },
    async releaseLease(name, holder) {
      await pool.query(`DELETE FROM ${prefix}signoff_leases WHERE name = $1 AND holder = $2`, [name, holder]);
    },
    async readAuditStart() {
      const { rows } = await sequenced(() => pool.query<{ first: string | null }>(`SELECT min(sequence) AS first FROM ${audit}`));
      return rows[0]?.first == null ? undefined : Number(rows[0].first);
    },
    async endSession(sessionId, expiresAt) {
      await transaction(async (client) => {
        // Ended sessions past their own expiry need no record: they are refused anyway.
        await client.query(`DELETE FROM ${prefix}ended_sessions WHERE expires_at <= now()`);
        await client.query(`INSERT INTO ${prefix}ended_sessions (session_id, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [sessionId, expiresAt]);
      });
    },
    async sessionEnded(sessionId) {
      const { rowCount } = await pool.query(`SELECT 1 FROM ${prefix}ended_sessions WHERE session_id = $1`, [sessionId]);
      return (rowCount ?? 0) > 0;
    },
    async readAuditHead() {
      const { rows } = await sequenced(() => pool.query<{ body: string }>(`SELECT body FROM ${audit} WHERE sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1`));
      if (!rows[0]) return undefined;
      const { sequence, hash, at } = JSON.parse(rows[0].body) as AuditEntry;
      return { sequence, hash, at };
    },
    async readRequestStates() {
      // `audit_sequence`: the chain sequence of the row's entry (unsequenced only if written after the sequencing just done).
      const { rows } = await sequenced(() => pool.query<RequestRow>(`SELECT r.id, r.body, r.state_hash, a.sequence AS audit_sequence FROM ${requests} r LEFT JOIN ${audit} a ON a.id = r.audit_entry ORDER BY r.id`));
      return rows.map(toStoredRequestState);
    },
    async readRequestStatesPage(afterId, limit, through) {
      // Each row's newest state entry by chain sequence, through the (request_id, id) index: a request has a few entries.
      const { rows } = await pool.query<RowWithNewest>(
        `SELECT r.id, r.body, r.state_hash, a.sequence AS audit_sequence, n.sequence AS newest_sequence, n.state_hash AS newest_state_hash
         FROM (SELECT id, body, state_hash, audit_entry FROM ${requests} WHERE id > $1 ORDER BY id LIMIT $2) r
         LEFT JOIN ${audit} a ON a.id = r.audit_entry
         LEFT JOIN LATERAL (SELECT sequence, state_hash FROM ${audit} WHERE request_id = r.id AND state_hash IS NOT NULL AND sequence <= $3 ORDER BY sequence DESC LIMIT 1) n ON true
         ORDER BY r.id`,
        [afterId, limit, through],
      );
      return rows.map(withNewestState);
    },
    async readAuditIndexPage(after, limit) {
      // As readAuditPage: the first page sequences what is committed first.
      const read = () => pool.query<IndexedRow>(`SELECT body, request_id, state_hash FROM ${audit} WHERE sequence > $1 ORDER BY sequence LIMIT $2`, [after, limit]);
      const { rows } = await (after === 0 ? sequenced(read) : read());
      return rows.map(toIndexedEntry);
    },
    async readStatesWithoutRows(afterId, limit, through) {
      const { rows } = await pool.query<{ request_id: string; sequence: string }>(
        `SELECT a.request_id, max(a.sequence) AS sequence FROM ${audit} a
         WHERE a.request_id > $1 AND a.state_hash IS NOT NULL AND a.sequence <= $2 AND NOT EXISTS (SELECT 1 FROM ${requests} r WHERE r.id = a.request_id)
         GROUP BY a.request_id ORDER BY a.request_id LIMIT $3`,
        [afterId, through, limit],
      );
      return rows.map((row) => ({ requestId: row.request_id, sequence: Number(row.sequence) }));
    },
    onRequestChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(liveness);
      clearInterval(sequencerSweep);
      flushCreates();
      await Promise.all(creatingBatches);
      // Leave nothing this replica committed unsequenced (another replica, or the next start, would chain it otherwise).
      await sequencing;
      await sequenceCommitted().catch(() => undefined);
      listeners.clear();
      await listenClient?.end().catch(() => undefined);
      await pool.end();
    },
  };
}

/** A row changed between writing an archive and committing it: the commit rolls back (retried on the next run). */
class ArchiveMoved extends Error {}
