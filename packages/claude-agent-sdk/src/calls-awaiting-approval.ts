import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import type { Signoff } from '@signoff/core';

/** An escalated call a finished run left waiting for reviewers, and how to resume it. */
export interface CallAwaitingApproval {
  readonly toolUseId: string;
  readonly toolName: string;
  /** `false`: the run paused on it (`deferred_tool_use`). `true`: it was refused in its turn; pass `retry: true` to `resumeWhenDecided`. */
  readonly retry: boolean;
}

/**
 * The escalated calls a run's result leaves waiting, each with the `resumeWhenDecided` option it
 * needs: the deferred call (`deferred_tool_use`), and the escalated calls Claude Code could not pause
 * and the backstop refused (in `permission_denials`, told apart from policy denials by the policy).
 *
 * @example
 * for (const call of callsAwaitingApproval(result, signoff)) {
 *   for await (const message of resumeWhenDecided({ signoff, sessionId: result.session_id, toolUseId: call.toolUseId, retry: call.retry, options })) console.log(message);
 * }
 */
export function callsAwaitingApproval(result: SDKResultMessage, signoff: Signoff): CallAwaitingApproval[] {
  const deferred = result.subtype === 'success' ? result.deferred_tool_use : undefined;
  const calls: CallAwaitingApproval[] = deferred ? [{ toolUseId: deferred.id, toolName: deferred.name, retry: false }] : [];
  for (const denial of result.permission_denials) {
    if (denial.tool_use_id === deferred?.id || signoff.guard.evaluate(denial.tool_name, denial.tool_input).action !== 'escalate') continue;
    calls.push({ toolUseId: denial.tool_use_id, toolName: denial.tool_name, retry: true });
  }
  return calls;
}
