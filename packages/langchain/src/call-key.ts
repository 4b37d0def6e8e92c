/**
 * A tool call's idempotency key in a thread: `${thread_id}:${toolCall.id}`. The middleware makes its
 * approval request under it and a wrapped tool finds it by it; it also names the call when reported,
 * so a call judged by both counts once.
 *
 * @example
 * callKey('order-42', 'call_abc'); // 'order-42:call_abc'
 */
export function callKey(threadId: string, toolCallId: string): string {
  return `${threadId}:${toolCallId}`;
}
