/**
 * A tool call's idempotency key: `${runId}:${callId}`, or the call id alone without a run id. Its
 * approval request is made and found under it, and it names the call when reported, so a call that
 * the guardrail, `needsApproval` and `invoke` (or a gate and a resume) each judge counts once.
 *
 * @example
 * callKey('thread-42', 'call_abc'); // 'thread-42:call_abc'
 */
export function callKey(runId: string | undefined, callId: string): string {
  return runId ? `${runId}:${callId}` : callId;
}
