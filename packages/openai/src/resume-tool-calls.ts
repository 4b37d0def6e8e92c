import { SignoffError, type Signoff } from '@signoff/core';
import { recheckApproval } from './ask-for-approval.js';
import { assertSupportedFramework } from './assert-supported-framework.js';
import { toGateResult } from './gate-tool-calls.js';
import { settleToolCall } from './settle-tool-call.js';
import type { GateResult, PausedToolCalls, ToolAnswer, ToolHandlers } from './tool-call-record.js';

export interface ResumeToolCallsOptions {
  readonly signoff: Signoff;
  readonly tools: ToolHandlers;
  /** Long-poll each pending request until it resolves (or `timeoutMs`, then refuse); default: look once. */
  readonly wait?: boolean;
  readonly timeoutMs?: number;
  /** Caller facts for the policy, checked again before an approved call runs; default: the context each request was made with. */
  readonly context?: Readonly<Record<string, unknown>>;
  readonly signal?: AbortSignal;
}

/**
 * Picks up a paused batch — from `gateToolCalls` in `pause` mode, possibly stored across a restart —
 * and answers its pending calls from the control plane's verdicts: an approved call runs with the
 * approved (possibly reviewer-edited) args after `checkApproval` and a successful claim, a denied or
 * expired one gets a message with the reason. Calls still undecided keep the batch `paused`; once
 * none is, the result is `complete` with every call's answer in the model's order (the earlier ones
 * included). An approval runs its call once: resuming the same saved state again — a retried
 * webhook, a second worker, a copy — answers that call "already used" and runs nothing.
 *
 * @example
 * const saved = JSON.parse(await db.load(runId)) as { messages: ChatCompletionMessageParam[]; paused: PausedToolCalls<ChatToolAnswer> };
 * const resumed = await resumeToolCalls(saved.paused, { signoff, tools });
 * if (resumed.status === 'complete') saved.messages.push(...resumed.messages);
 */
export async function resumeToolCalls<TAnswer extends ToolAnswer>(state: PausedToolCalls<TAnswer>, options: ResumeToolCallsOptions): Promise<GateResult<TAnswer>> {
  assertSupportedFramework('openai');
  if (state?.version !== 1 || !Array.isArray(state.calls)) {
    throw new SignoffError('INVALID_ARGUMENT', 'resumeToolCalls needs the `state` of a paused gateToolCalls result (version 1)');
  }
  const records = await Promise.all(
    state.calls.map(async (record) => {
      if (record.status !== 'pending') return record;
      const verdict = record.approvalId
        ? await recheckApproval(options.signoff, record.approvalId, { tool: record.tool, args: record.args }, {
            wait: options.wait ?? false,
            ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
            ...(options.signal ? { signal: options.signal } : {}),
          })
        : ({ kind: 'refused', reason: 'the paused call carries no approval id' } as const);
      return settleToolCall(record, record.args, verdict, options);
    }),
  );
  return toGateResult(records as typeof state.calls);
}
