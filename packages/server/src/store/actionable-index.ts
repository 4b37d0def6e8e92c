import type { ApprovalRequest } from '@signoff/core';
import type { AuditReference } from '../audit/check-request-row.js';
import { selectRequestRows } from './request-row.js';
import type { ActionableQuery } from './store.js';

/** The role an index row gets for a requirement set that names no roles: any reviewer may approve. */
export const ANY_ROLE = '*';

/** What the stores index about a pending request so "what may this reviewer act on" is one indexed query. */
export interface ActionableIndexRows {
  /** Every role that may approve (`*` when a requirement set lets any reviewer), each once. */
  readonly roles: readonly string[];
  /** Reviewers whose decision on the current args is already recorded: they have nothing left to do. */
  readonly decidedBy: readonly string[];
}

/**
 * The index rows of a request, derived from its state alone, or `undefined` when it is no longer
 * pending (nothing to act on). The stores rewrite them in the transaction that writes the state,
 * so an edit that adds requirements (`alsoRequired`) or a new decision is seen by the next query.
 * Mirrors `canApprove` and the "already decided" rule of the approval engine.
 *
 * @example
 * const rows = actionableIndexOf(request); // { roles: ['finance'], decidedBy: ['ana'] }
 */
export function actionableIndexOf(request: ApprovalRequest): ActionableIndexRows | undefined {
  if (request.status !== 'pending') return undefined;
  const roles = new Set<string>();
  for (const requirements of [request.requirements, ...(request.alsoRequired ?? [])]) {
    if (requirements.approverRoles.length === 0) roles.add(ANY_ROLE);
    for (const role of requirements.approverRoles) roles.add(role);
  }
  const decidedBy = new Set(request.decisions.filter((decision) => decision.argsHash === request.approvedArgsHash).map((decision) => decision.reviewer));
  return { roles: [...roles], decidedBy: [...decidedBy] };
}

/** How {@link actionableSql} writes for one store. */
export interface ActionableSqlOptions {
  /** Qualifies table names (`"signoff".`), or `''`. */
  readonly prefix: string;
  /** Adds a value and returns its placeholder (`?` or `$n`). */
  readonly param: (value: unknown) => string;
  /**
   * Name each branch's index (SQLite's `INDEXED BY`). Without statistics (SQLite has none until
   * `ANALYZE`, which nothing runs) its planner took the deadline range `expires_at > now` for selective,
   * walked the deadline index for a newest-first page and sorted every pending request of the role:
   * the page's cost grew with the role's backlog. Named, the walk is in list order and stops at `limit`.
   */
  readonly indexedBy?: boolean;
  /** How request rows name their audit entry (PostgreSQL: by entry id; see check-request-row). */
  readonly reference?: AuditReference;
}

/** The conditions of an {@link ActionableQuery} on the index table `x` other than its role (and the page position). */
function actionableWhere(query: ActionableQuery, options: { readonly prefix: string; readonly param: (value: unknown) => string }): string[] {
  const { prefix, param } = options;
  const where = [
    `x.expires_at > ${param(query.now.toISOString())}`,
    `x.requester NOT IN (${[...new Set([query.reviewer, ...(query.ownedRequesters ?? [])])].map(param).join(', ')})`,
    `(x.on_behalf_of IS NULL OR x.on_behalf_of <> ${param(query.reviewer)})`,
    `NOT EXISTS (SELECT 1 FROM ${prefix}request_decided d WHERE d.request_id = x.request_id AND d.reviewer = ${param(query.reviewer)})`,
  ];
  if (query.tool !== undefined) where.push(`x.tool = ${param(query.tool)}`);
  if (query.requester !== undefined) where.push(`x.requester = ${param(query.requester)}`);
  return where;
}

/** The reviewer's roles and `*` (any reviewer), each once. */
function rolesOf(query: ActionableQuery): string[] {
  return [...new Set([...query.roles, ANY_ROLE])];
}

/**
 * The SELECT that answers an {@link ActionableQuery} with the page's request rows (checked by the
 * caller), for both SQL stores: `param` adds a value and returns its placeholder (`?` or `$n`).
 * The page is chosen from the index table alone: one branch per role walks that role's index in
 * list order and stops after `limit` matches (on SQLite named with `INDEXED BY`: see {@link ActionableSqlOptions}), the branches are merged and cut to `limit`, and only
 * then are the page's rows joined with the requests and their audit evidence. So a page costs
 * about `limit` index entries per role, however many requests are pending.
 *
 * @example
 * const values: unknown[] = [];
 * const sql = actionableSql(query, { prefix: '', param: (value) => (values.push(value), '?') });
 */
export function actionableSql(query: ActionableQuery, options: ActionableSqlOptions): string {
  const { prefix, param } = options;
  const deadline = query.order === 'deadline';
  // Backward (a Previous link): the rows just before the cursor, read in reverse and put back in order.
  const backward = query.backward === true;
  const column = deadline ? 'expires_at' : 'created_at';
  const position = deadline ? query.after && { at: query.after.expiresAt, id: query.after.id } : query.before && { at: query.before.createdAt, id: query.before.id };
  const direction = (reversed: boolean) => (deadline !== reversed ? 'ASC' : 'DESC');
  const order = (table: string, reversed: boolean) => `${table}.${column} ${direction(reversed)}, ${table}.request_id ${direction(reversed)}`;
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 1000);
  const branches = rolesOf(query).map((role) => {
    const where = [`x.role = ${param(role)}`, ...actionableWhere(query, options)];
    if (position) {
      // Forward: after the cursor in list order (later deadline / older creation); backward: before it.
      const op = deadline !== backward ? '>' : '<';
      where.push(`(x.${column} ${op} ${param(position.at)} OR (x.${column} = ${param(position.at)} AND x.request_id ${op} ${param(position.id)}))`);
    }
    const hint = options.indexedBy ? ` INDEXED BY request_roles_${deadline ? 'deadline' : 'newest'}` : '';
    return `SELECT * FROM (SELECT x.request_id, x.created_at, x.expires_at FROM ${prefix}request_roles x${hint} WHERE ${where.join(' AND ')} ORDER BY ${order('x', backward)} LIMIT ${limit}) AS branch`;
  });
  // DISTINCT: a request needing two of the reviewer's roles comes from two branches but is listed once.
  const page = `SELECT DISTINCT u.request_id, u.created_at, u.expires_at FROM (${branches.join(' UNION ALL ')}) AS u ORDER BY ${order('u', backward)} LIMIT ${limit}`;
  return `${selectRequestRows(prefix, options.reference)} JOIN (${page}) page ON page.request_id = r.id WHERE r.status = 'pending' ORDER BY ${order('page', false)}`;
}

/**
 * How many requests an {@link ActionableQuery} matches in all (its page position and limit ignored):
 * a count over the reviewer's index rows, cheap next to the page itself.
 *
 * @example
 * const sql = actionableCountSql(query, { prefix: '', param: (value) => (values.push(value), '?') });
 */
export function actionableCountSql(query: ActionableQuery, options: { readonly prefix: string; readonly param: (value: unknown) => string }): string {
  const roles = rolesOf(query).map(options.param).join(', ');
  return `SELECT count(DISTINCT x.request_id) AS total FROM ${options.prefix}request_roles x WHERE x.role IN (${roles}) AND ${actionableWhere(query, options).join(' AND ')}`;
}

/**
 * When a resolved request may leave the hot tables (retention): when it resolved, or, while its
 * grant can still be used (approved, or expired with `timeout_action: allow`, and not yet executed),
 * when the grant runs out. `undefined` while it is pending.
 *
 * @example
 * keepUntil(request); // '2026-11-25T06:00:00.000Z'
 */
export function keepUntil(request: ApprovalRequest): string | undefined {
  if (request.status === 'pending') return undefined;
  const resolved = Date.parse(request.resolvedAt ?? request.createdAt);
  const grantOpen = request.granted && request.status !== 'executed';
  return new Date(grantOpen ? resolved + request.requirements.grantTtlMs : resolved).toISOString();
}
