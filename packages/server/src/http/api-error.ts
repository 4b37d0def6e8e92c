import { SignoffError } from '@signoff/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type * as z from 'zod';

/** The JSON error body every refusal uses: a stable code, a human message, and the field at fault. */
export function apiError(context: Context, status: ContentfulStatusCode, code: string, message: string, field?: string) {
  return context.json({ error: { code, message, ...(field ? { field } : {}) } }, status);
}

/** A 400 naming the first invalid field, from a zod error. */
export function invalidRequest(context: Context, error: z.ZodError, where: 'body' | 'query') {
  const issue = error.issues[0];
  const path = issue?.path.join('.') ?? '';
  const field = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : path;
  const message = issue?.code === 'unrecognized_keys' ? `unknown field(s) in ${where}: ${field}` : `${where}${path ? `.${path}` : ''}: ${issue?.message ?? 'invalid'}`;
  return apiError(context, 400, 'INVALID_REQUEST', message, field || undefined);
}

/** Deeper JSON is refused with a 400 (recursive validation would otherwise overflow the stack). */
export const MAX_JSON_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `limit`, checked without recursion. */
export function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Database errors that mean "cannot write now" (full disk, read-only file or disk, I/O), not a bug. */
function storageFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (/^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY)/.test(code)) return code;
  // PostgreSQL: insufficient resources (53xxx, e.g. disk full), read-only transaction (25006), connection failures (08xxx).
  if (/^(53\d{3}|25006|08\d{3})$/.test(code) || code === 'ECONNREFUSED') return `PostgreSQL ${code}`;
  return undefined;
}

/**
 * The answer to an error a route did not expect, logged: the one mapping of the Hono app's
 * `onError` and of the routes answered on the raw request.
 */
export function failureOf(error: unknown, metrics: { refusals: { inc(labels: { code: string }): void } }): { status: 409 | 500 | 503; body: { error: { code: string; message: string } } } {
  const answer = (status: 409 | 500 | 503, code: string, message: string) => ({ status, body: { error: { code, message } } });
  // A request row that does not match its audit chain: refuse, loudly, and keep serving the rest.
  // 409, not 5xx: retrying cannot help, and clients retry 5xx.
  if (SignoffError.isInstance(error) && error.code === 'STATE_TAMPERED') {
    console.error(`signoff: ${error.message}`);
    metrics.refusals.inc({ code: 'STATE_TAMPERED' });
    return answer(409, 'STATE_TAMPERED', `${error.message}. Nothing was changed.`);
  }
  const storage = storageFailure(error);
  if (storage) {
    console.error(`signoff: storage unavailable (${storage}); nothing was written`, error);
    return answer(503, 'STORAGE_UNAVAILABLE', `the database cannot be written (${storage}); nothing was changed — retry later`);
  }
  console.error('signoff: unexpected error', error);
  return answer(500, 'INTERNAL', 'unexpected server error; nothing was changed by the failed step');
}
