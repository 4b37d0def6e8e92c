import type { ApprovalRequest } from '@signoff/core';
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

/**
 * The SELECT that answers an {@link ActionableQuery} with the page's request rows (checked by the
 * caller), for both SQL stores: `param` adds a value and returns its placeholder (`?` or `$n`).
 * The page is chosen from the index table alone (pending rows only, keyed by role then time), and
 * only its rows are joined with the requests and their audit evidence.
 *
 * @example
 * const values: unknown[] = [];
 * const sql = actionableSql(query, { prefix: '', param: (value) => (values.push(value), '?') });
 */
export function actionableSql(query: ActionableQuery, options: { readonly prefix: string; readonly param: (value: unknown) => string }): string {
  const { prefix, param } = options;
  const roles = [...new Set([...query.roles, ANY_ROLE])];
  const where = [
    `x.role IN (${roles.map(param).join(', ')})`,
    `x.expires_at > ${param(query.now.toISOString())}`,
    `x.requester NOT IN (${[...new Set([query.reviewer, ...(query.ownedRequesters ?? [])])].map(param).join(', ')})`,
    `(x.on_behalf_of IS NULL OR x.on_behalf_of <> ${param(query.reviewer)})`,
    `NOT EXISTS (SELECT 1 FROM ${prefix}request_decided d WHERE d.request_id = x.request_id AND d.reviewer = ${param(query.reviewer)})`,
  ];
  if (query.tool !== undefined) where.push(`x.tool = ${param(query.tool)}`);
  if (query.requester !== undefined) where.push(`x.requester = ${param(query.requester)}`);
  const deadline = query.order === 'deadline';
  if (deadline && query.after) {
    const at = param(query.after.expiresAt);
    where.push(`(x.expires_at > ${at} OR (x.expires_at = ${param(query.after.expiresAt)} AND x.request_id > ${param(query.after.id)}))`);
  } else if (!deadline && query.before) {
    const at = param(query.before.createdAt);
    where.push(`(x.created_at < ${at} OR (x.created_at = ${param(query.before.createdAt)} AND x.request_id < ${param(query.before.id)}))`);
  }
  const order = (table: string) => (deadline ? `${table}.expires_at ASC, ${table}.request_id ASC` : `${table}.created_at DESC, ${table}.request_id DESC`);
  const limit = Math.min(Math.max(Math.trunc(query.limit ?? 100), 1), 1000);
  // DISTINCT: a request needing two of the reviewer's roles has two index rows but is listed once.
  const page = `SELECT DISTINCT x.request_id, x.created_at, x.expires_at FROM ${prefix}request_roles x WHERE ${where.join(' AND ')} ORDER BY ${order('x')} LIMIT ${limit}`;
  return `${selectRequestRows(prefix)} JOIN (${page}) page ON page.request_id = r.id WHERE r.status = 'pending' ORDER BY ${order('page')}`;
}
