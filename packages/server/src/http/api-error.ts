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
