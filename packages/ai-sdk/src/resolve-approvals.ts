import type { ApprovalRequest, Signoff } from '@signoff/core';
import type { ModelMessage, ToolApprovalResponse, ToolModelMessage } from 'ai';
import { getToolCallVerdict, type SignoffAiSdkOptions, type SignoffToolCall, type WaitOption } from './get-tool-call-verdict.js';

/**
 * Options of {@link resolveApprovals}.
 *
 * @example
 * const options: ResolveApprovalsOptions = { wait: { timeoutMs: 25_000 }, inboxUrl: 'https://signoff.internal/inbox/{id}' };
 */
export interface ResolveApprovalsOptions extends SignoffAiSdkOptions {
  /** Default `false`: read the verdicts as they are now. `true` waits until each request resolves or expires. */
  readonly wait?: WaitOption;
  readonly signal?: AbortSignal;
  /** Inbox link template for pending calls; `{id}` becomes the approval id, e.g. `https://signoff.internal/inbox/{id}`. */
  readonly inboxUrl?: string;
}

/**
 * A paused call the control plane has not decided yet.
 *
 * @example
 * for (const { toolCall, approval, inboxUrl } of pending) console.log(`${toolCall.toolName}: ${approval.reason} (${inboxUrl})`);
 */
export interface PendingApproval {
  readonly toolCall: SignoffToolCall;
  /** The SDK's approval id (of the `tool-approval-request` part). */
  readonly approvalId: string;
  /** The control plane's request: its `id` links to the inbox, its `expiresAt` says how long it may wait. */
  readonly approval: ApprovalRequest;
  /** Where a reviewer decides, when `inboxUrl` was given. */
  readonly inboxUrl: string | undefined;
}

/**
 * What {@link resolveApprovals} returns.
 *
 * @example
 * const { messages: resumed, responses, pending }: ResolvedApprovals = await resolveApprovals(messages, signoff);
 */
export interface ResolvedApprovals {
  /** The history with a `tool-approval-response` for every decided call; pass it to the next `generateText`. */
  readonly messages: ModelMessage[];
  /** The responses that were appended. */
  readonly responses: ToolApprovalResponse[];
  /** Calls still waiting: resume only when this is empty (the SDK refuses tool calls without results). */
  readonly pending: PendingApproval[];
}

/**
 * Answers the open `tool-approval-request` parts of a history from the control plane: fetches (or
 * waits for) each verdict and appends the matching `tool-approval-response` parts, ready for the
 * next `generateText` / `streamText` call. The whole state is the message JSON, so a run paused in
 * one process resumes in another. Requests that already have a response or a result are left alone
 * (the SDK re-checks any approval with {@link signoffToolApproval} before running it).
 *
 * It claims nothing: an approval is used when its call runs (by the wrapped tool, see
 * {@link withSignoff}). So resolving the same saved history twice — a retried webhook — is
 * harmless: once the call ran, its approval reads `executed` and the response says
 * `approved: false` with `approval apr_… was already used at …; an approval runs its call once`.
 *
 * @example
 * const { messages: resumed, pending } = await resolveApprovals(messages, signoff, { wait: true });
 * if (pending.length === 0) await generateText({ model, tools, messages: resumed, toolApproval: signoffToolApproval(signoff) });
 */
export async function resolveApprovals(messages: readonly ModelMessage[], signoff: Signoff, options: ResolveApprovalsOptions = {}): Promise<ResolvedApprovals> {
  const toolCalls = new Map<string, SignoffToolCall>();
  const open: Array<{ approvalId: string; toolCallId: string }> = [];
  const answeredApprovals = new Set<string>();
  const finishedCalls = new Set<string>();
  for (const message of messages) {
    if (typeof message.content === 'string' || message.role === 'system' || message.role === 'user') continue;
    for (const part of message.content) {
      if (part.type === 'tool-call') toolCalls.set(part.toolCallId, part);
      else if (part.type === 'tool-approval-request' && !part.isAutomatic) open.push(part);
      else if (part.type === 'tool-approval-response') answeredApprovals.add(part.approvalId);
      else if (part.type === 'tool-result') finishedCalls.add(part.toolCallId);
    }
  }

  const outcomes = await Promise.all(
    open
      .filter(({ approvalId, toolCallId }) => !answeredApprovals.has(approvalId) && !finishedCalls.has(toolCallId))
      .map(async ({ approvalId, toolCallId }) => {
        const toolCall = toolCalls.get(toolCallId);
        const verdict = toolCall
          ? await getToolCallVerdict(signoff, toolCall, options)
          : ({ status: 'deny', reason: `Not run: no tool call ${toolCallId} in the history` } as const);
        return { approvalId, toolCall, verdict };
      }),
  );

  const responses: ToolApprovalResponse[] = [];
  const pending: PendingApproval[] = [];
  for (const { approvalId, toolCall, verdict } of outcomes) {
    if (verdict.status === 'pending' && toolCall) {
      pending.push({ toolCall, approvalId, approval: verdict.approval, inboxUrl: options.inboxUrl?.replaceAll('{id}', encodeURIComponent(verdict.approval.id)) });
    } else {
      responses.push({ type: 'tool-approval-response', approvalId, approved: verdict.status === 'allow', reason: verdict.reason });
    }
  }
  return { messages: appendToolContent(messages, responses), responses, pending };
}

/** The SDK reads responses from the last message only, so they join a trailing tool message. */
function appendToolContent(messages: readonly ModelMessage[], responses: ToolApprovalResponse[]): ModelMessage[] {
  if (responses.length === 0) return [...messages];
  const last = messages.at(-1);
  if (last?.role === 'tool') return [...messages.slice(0, -1), { ...last, content: [...last.content, ...responses] } satisfies ToolModelMessage];
  return [...messages, { role: 'tool', content: responses }];
}
