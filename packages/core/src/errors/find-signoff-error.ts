import { SignoffError } from './signoff-error.js';

/**
 * The Signoff error behind an error a framework rethrew: the error itself or the first one in its
 * `cause` chain (LangChain, for one, wraps what its middleware throws in its own `MiddlewareError`).
 * `undefined` when there is none.
 *
 * @example
 * try { await agent.invoke(input, config); } catch (error) {
 *   if (findSignoffError(error)?.code === 'INVALID_ARGUMENT') console.error('escalations need a thread_id');
 * }
 */
export function findSignoffError(error: unknown): SignoffError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 16 && typeof current === 'object' && current !== null; depth += 1) {
    if (SignoffError.isInstance(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
