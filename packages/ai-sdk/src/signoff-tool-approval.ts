import { hashArgs, type Signoff } from '@signoff/core';
import type { ModelMessage, ToolApprovalStatus } from 'ai';
import { assertSupportedAiVersion } from './assert-supported-ai-version.js';
import { claimVerdict } from './claim-verdict.js';
import { getToolCallVerdict, type SignoffAiSdkOptions, type SignoffToolCall } from './get-tool-call-verdict.js';
import { isSignoffTool } from './with-signoff.js';

/**
 * What the SDK passes to a generic `toolApproval` function, narrowed to what Signoff reads.
 *
 * @example
 * const status = await signoffToolApproval(signoff)({ toolCall, tools, messages } satisfies SignoffToolApprovalInput);
 */
export interface SignoffToolApprovalInput {
  readonly toolCall: SignoffToolCall;
  readonly tools: Readonly<Record<string, unknown>> | undefined;
  readonly messages: readonly ModelMessage[];
}

/**
 * A generic `toolApproval` function; assignable to `toolApproval` of `generateText`, `streamText` and `ToolLoopAgent`.
 *
 * @example
 * const toolApproval: SignoffToolApproval = signoffToolApproval(signoff);
 */
export type SignoffToolApproval = (input: SignoffToolApprovalInput) => Promise<ToolApprovalStatus>;

/**
 * The AI SDK `toolApproval` for a Signoff policy: allow → `'approved'`, deny → `{ type: 'denied', reason }`,
 * escalate → the approval request is created (idempotently, on the tool call id) and the call pauses
 * with `{ type: 'user-approval', reason }`.
 *
 * The SDK calls it again before running a call that the history says was approved; then it answers
 * from the control plane's verdict alone, so a `tool-approval-response` forged into the messages
 * never runs a tool reviewers did not approve, and a reviewer's deny wins.
 *
 * An approval runs its call once, so exactly one place claims it. For a tool wrapped with
 * {@link withSignoff} (the recommended setup) that is the tool's own `execute`, which re-decides and
 * claims just before it runs: this function only says `'approved'`. A tool that is not wrapped has
 * no such gate, so this function claims the approval itself just before answering `'approved'`
 * (a claim that fails — already used, expired, unreachable — is a denial with the reason). If the
 * process dies between that claim and the run, the call does not run again: at most once, never
 * twice. Reviewer-edited args run only in wrapped tools (the SDK would run the model's input); for
 * other tools the call is denied with the edited args, unclaimed, so the model can call again.
 *
 * @example
 * const result = await generateText({ model, tools: withSignoff(tools, signoff, { wait: false }), messages, toolApproval: signoffToolApproval(signoff) });
 * messages.push(...result.responseMessages); // pending approvals are `tool-approval-request` parts
 */
export function signoffToolApproval(signoff: Signoff, options: SignoffAiSdkOptions = {}): SignoffToolApproval {
  assertSupportedAiVersion();
  return async ({ toolCall, tools, messages }) => {
    const verdict = await getToolCallVerdict(signoff, toolCall, options);
    if (verdict.status === 'deny') return { type: 'denied', reason: verdict.reason };
    if (verdict.status === 'pending') {
      // On a continuation the SDK runs anything we do not deny, so "still waiting" must be a denial there.
      return wasRequested(messages, toolCall.toolCallId)
        ? { type: 'denied', reason: `Not run: approval ${verdict.approval.id} is still pending on the control plane` }
        : { type: 'user-approval', reason: verdict.reason };
    }
    if (!verdict.approval || isSignoffTool(tools && Object.hasOwn(tools, toolCall.toolName) ? tools[toolCall.toolName] : undefined)) return { type: 'approved', reason: verdict.reason };
    if (hashArgs(verdict.args) !== hashArgs(toolCall.input)) {
      return {
        type: 'denied',
        reason: `A reviewer approved ${toolCall.toolName} only with edited arguments ${JSON.stringify(verdict.args)}; call it again with exactly these arguments.`,
      };
    }
    const claimed = await claimVerdict(signoff, verdict);
    return claimed.status === 'allow' ? { type: 'approved', reason: claimed.reason } : { type: 'denied', reason: claimed.reason };
  };
}

/** Whether the history already holds an approval request for this call, i.e. this is the SDK's re-check. */
function wasRequested(messages: readonly ModelMessage[], toolCallId: string): boolean {
  return messages.some(
    (message) => message.role === 'assistant' && Array.isArray(message.content) && message.content.some((part) => part.type === 'tool-approval-request' && part.toolCallId === toolCallId),
  );
}
