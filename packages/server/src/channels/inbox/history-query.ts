import type { ApprovalRequest, ApprovalStatus } from '@signoff/core';
import type { ApprovalFilter } from '../../store/store.js';

/** What the history form shows: `resolved` (every final status) or one status, or `any`. */
export type HistoryStatus = 'resolved' | 'any' | ApprovalStatus;
export const HISTORY_STATUSES: readonly HistoryStatus[] = ['resolved', 'any', 'pending', 'approved', 'executed', 'denied', 'expired'];
const RESOLVED: readonly ApprovalStatus[] = ['approved', 'executed', 'denied', 'expired'];

/** The history form's fields as the reviewer filled them in (empty = no filter). */
export interface HistoryQuery {
  readonly status: HistoryStatus;
  readonly tool: string;
  /** The requesting agent principal (the API key's name). */
  readonly agent: string;
  /** A reviewer who decided the request. */
  readonly reviewer: string;
  /** First day (UTC, `YYYY-MM-DD`) of creation, inclusive. */
  readonly from: string;
  /** Last day (UTC, `YYYY-MM-DD`) of creation, inclusive. */
  readonly to: string;
  /** Text anywhere in the request. */
  readonly q: string;
}

export type ParsedHistoryQuery =
  | { readonly ok: true; readonly query: HistoryQuery; readonly filter: ApprovalFilter }
  | { readonly ok: false; readonly query: HistoryQuery; readonly field: string; readonly message: string };

const MAX_TEXT = 200;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * Reads the history page's query string into a store filter, so the database does the filtering
 * (and the limit applies to matching rows). Unknown statuses, malformed days, a range that ends
 * before it starts, an over-long field or a foreign cursor are refused, naming the field.
 *
 * @example
 * parseHistoryQuery({ status: 'denied', tool: 'payment.send', from: '2026-12-01' });
 */
export function parseHistoryQuery(raw: Readonly<Record<string, string | undefined>>): ParsedHistoryQuery {
  const text = (name: string) => (raw[name] ?? '').trim();
  const status = text('status') || 'resolved';
  const query: HistoryQuery = {
    status: (HISTORY_STATUSES as readonly string[]).includes(status) ? (status as HistoryStatus) : 'resolved',
    tool: text('tool'),
    agent: text('agent'),
    reviewer: text('reviewer'),
    from: text('from'),
    to: text('to'),
    q: text('q'),
  };
  const refuse = (field: string, message: string): ParsedHistoryQuery => ({ ok: false, query, field, message });
  if (!(HISTORY_STATUSES as readonly string[]).includes(status)) return refuse('status', `status: expected one of ${HISTORY_STATUSES.join(', ')}`);
  for (const field of ['tool', 'agent', 'reviewer', 'q'] as const) {
    if (query[field].length > MAX_TEXT) return refuse(field, `${field}: at most ${MAX_TEXT} characters`);
  }
  const since = query.from ? dayStart(query.from) : undefined;
  if (since === null) return refuse('from', 'from: expected a day like 2026-12-07');
  const until = query.to ? dayStart(query.to) : undefined;
  if (until === null) return refuse('to', 'to: expected a day like 2026-12-07');
  if (since !== undefined && until !== undefined && until < since) return refuse('to', 'to: the last day is before the first day');
  const cursor = raw.cursor === undefined || raw.cursor === '' ? undefined : decodeListCursor(raw.cursor);
  if (cursor === null) return refuse('cursor', 'cursor: this page link is not valid any more; start from the first page');

  const filter: ApprovalFilter = {
    ...(query.status === 'resolved' ? { statuses: RESOLVED } : query.status === 'any' ? {} : { status: query.status }),
    ...(query.tool ? { tool: query.tool } : {}),
    ...(query.agent ? { requester: query.agent } : {}),
    ...(query.reviewer ? { reviewer: query.reviewer } : {}),
    ...(since !== undefined ? { createdSince: new Date(since).toISOString() } : {}),
    // The last day is inclusive: until the start of the day after it.
    ...(until !== undefined ? { createdUntil: new Date(until + DAY_MS).toISOString() } : {}),
    ...(query.q ? { search: query.q } : {}),
    ...(cursor ? { before: cursor } : {}),
  };
  return { ok: true, query, filter };
}

/**
 * The history page link for these filters (only the fields in use), optionally at a page.
 *
 * @example
 * historyHref({ ...query, tool: 'deploy.run' }, cursor); // /inbox/history?status=resolved&tool=deploy.run&cursor=…
 */
export function historyHref(query: HistoryQuery, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  if (cursor) params.set('cursor', cursor);
  return `/inbox/history?${params.toString()}`;
}

/** Where a page ends, in the API's own cursor format (its last request's creation time and id). */
export function encodeListCursor(request: ApprovalRequest): string {
  return Buffer.from(JSON.stringify([request.createdAt, request.id])).toString('base64url');
}

/** The position a cursor names; `null` when it is not one. */
export function decodeListCursor(cursor: string): { createdAt: string; id: string } | null {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    return typeof createdAt === 'string' && !Number.isNaN(Date.parse(createdAt)) && typeof id === 'string' && /^apr_[\w-]{10,40}$/.test(id) ? { createdAt, id } : null;
  } catch {
    return null;
  }
}

/** Midnight UTC of a `YYYY-MM-DD` day in ms, or `null` when it is not a real day. */
function dayStart(day: string): number | null {
  if (!DAY.test(day)) return null;
  const time = Date.parse(`${day}T00:00:00.000Z`);
  return Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== day ? null : time;
}
