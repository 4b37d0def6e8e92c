import { hashArgs } from '@signoff/core';

/**
 * Approvals waiting for the model to make their call again, in this process: a call refused in a
 * turn with several tool calls (where Claude Code cannot pause it) is re-issued under a new tool use
 * id once approved, and the hook matches it here by session, tool and args hash. Filled by
 * `resumeWhenDecided({ retry: true })`, taken once by the hook.
 */
const carried = new Map<string, string>();

function keyOf(sessionId: string, tool: string, args: unknown): string {
  return `${sessionId}\n${tool}\n${hashArgs(args)}`;
}

/** Remembers that the identical call in this session belongs to the approval with `idempotencyKey`. */
export function carryApproval(sessionId: string, tool: string, args: unknown, idempotencyKey: string): void {
  carried.set(keyOf(sessionId, tool, args), idempotencyKey);
}

/** The carried approval's idempotency key for this call, once; `undefined` when none is carried. */
export function takeCarriedApproval(sessionId: string, tool: string, args: unknown): string | undefined {
  const key = keyOf(sessionId, tool, args);
  const idempotencyKey = carried.get(key);
  carried.delete(key);
  return idempotencyKey;
}
