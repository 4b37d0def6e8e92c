import { checkApproval, hashArgs, SignoffError, type ApprovalRequest, type Signoff } from '@signoff/core';

/**
 * The part of an AI SDK tool call Signoff judges (a `tool-call` content part has these fields).
 *
 * @example
 * const toolCall: SignoffToolCall = { toolCallId: 'call_1', toolName: 'payment_send', input: { to: 'acme', amount: 500 } };
 */
export interface SignoffToolCall {
  readonly toolCallId: string;
  readonly toolName: string;
  readonly input: unknown;
}

/**
 * Options shared by every entry point of this adapter.
 *
 * @example
 * const options: SignoffAiSdkOptions = { idempotencyKey: (call) => `${chatId}:${call.toolCallId}`, onBehalfOf: user.id, context: { user: user.id } };
 */
export interface SignoffAiSdkOptions {
  /**
   * The idempotency key of the approval request for a call. Default: the tool call id. Provider ids
   * are only unique within a conversation, so prefix them with a chat/thread id in multi-user apps.
   */
  readonly idempotencyKey?: (toolCall: SignoffToolCall) => string;
  /** Caller facts for the policy's `context.…` conditions (user, tenant, environment, …). */
  readonly context?: Readonly<Record<string, unknown>>;
  /** The user the agent acts for; the control plane never lets them approve their own request. */
  readonly onBehalfOf?: string;
  /** Where the control plane POSTs the outcome (signed), for apps that resume on a webhook. */
  readonly callbackUrl?: string;
}

/**
 * How long to wait for reviewers: `false` reads the current state, `true` waits until the request's
 * own deadline, `{ timeoutMs }` at most that long (the request then stays pending).
 *
 * @example
 * const wait: WaitOption = { timeoutMs: 25_000 };
 */
export type WaitOption = boolean | { readonly timeoutMs: number };

/**
 * Options of {@link getToolCallVerdict}.
 *
 * @example
 * const options: GetToolCallVerdictOptions = { wait: { timeoutMs: 5_000 }, signal: AbortSignal.timeout(6_000) };
 */
export interface GetToolCallVerdictOptions extends SignoffAiSdkOptions {
  /** Default `false`. */
  readonly wait?: WaitOption;
  readonly signal?: AbortSignal;
}

/**
 * What the control plane (or the local policy, for allow/deny) says about one tool call.
 *
 * @example
 * const label = (verdict: ToolCallVerdict) => (verdict.status === 'pending' ? `waiting on ${verdict.approval.id}` : verdict.reason);
 */
export type ToolCallVerdict =
  | { readonly status: 'allow'; /** The args that may run: reviewer-edited ones when they edited them. */ readonly args: unknown; readonly reason: string; readonly approval?: ApprovalRequest }
  | { readonly status: 'deny'; readonly reason: string; readonly approval?: ApprovalRequest }
  | { readonly status: 'pending'; readonly reason: string; readonly approval: ApprovalRequest };

/**
 * Guards one tool call and, when it escalates, creates (or replays, on the idempotency key) its
 * approval request, optionally waits, and checks the verdict with `checkApproval`. Never throws:
 * any infrastructure failure is a `deny` (fail-closed). The other exports build on this; call it
 * directly from a route that shows an approval's status.
 *
 * A verdict is not a grant: `allow` for an escalated call says the reviewers approved it, not that
 * it may run now. Whatever runs it claims it first (`signoff.claimExecution`, once per approval);
 * {@link withSignoff} and {@link signoffToolApproval} do.
 *
 * @example
 * const verdict = await getToolCallVerdict(signoff, { toolCallId: part.toolCallId, toolName: 'payment_send', input: part.input });
 * if (verdict.status === 'pending') console.log(`waiting on ${verdict.approval.id}`);
 */
export async function getToolCallVerdict(signoff: Signoff, toolCall: SignoffToolCall, options: GetToolCallVerdictOptions = {}): Promise<ToolCallVerdict> {
  return judgeToolCall(signoff, toolCall, options, 'request');
}

/**
 * How the request of an escalated call is looked up. `request`: create it, or replay it on the key
 * (only for the args the model sent). `find`: read the request the key names first (a wrapped
 * tool's input may already be the reviewer-edited args it was approved with), create it only when
 * there is none. Internal.
 */
export type ApprovalLookup = 'request' | 'find';

/** {@link getToolCallVerdict} with a choice of lookup. Internal. */
export async function judgeToolCall(signoff: Signoff, toolCall: SignoffToolCall, options: GetToolCallVerdictOptions, lookup: ApprovalLookup): Promise<ToolCallVerdict> {
  const call = { tool: toolCall.toolName, args: toolCall.input };
  // The key names the call when it is reported too: judged by toolApproval and again by the wrapped tool, it counts once.
  const idempotencyKey = options.idempotencyKey?.(toolCall) ?? toolCall.toolCallId;
  const decision = signoff.guard(call.tool, call.args, options.context, { callId: idempotencyKey });
  if (decision.action === 'allow') return { status: 'allow', args: call.args, reason: decision.reason };
  if (decision.action === 'deny') return { status: 'deny', reason: decision.reason };
  try {
    const found = lookup === 'find' ? await signoff.findApproval(idempotencyKey, options.signal) : undefined;
    const created =
      found ??
      (await signoff.requestApproval(decision, {
        idempotencyKey,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
        ...(options.callbackUrl ? { callbackUrl: options.callbackUrl } : {}),
      }));
    // A replayed key may belong to another call (ids collide across chats): only this call's request may make us wait.
    const argsHash = hashArgs(call.args);
    const asRequested = created.tool === call.tool && created.argsHash === argsHash;
    const asApproved = lookup === 'find' && created.tool === call.tool && created.status !== 'pending' && created.approvedArgsHash === argsHash;
    const approval = asRequested ? await settle(signoff, created, options) : created;
    if (asRequested && approval.status === 'pending') return { status: 'pending', reason: approval.reason, approval };
    // Input equal to the approved (edited) args is this request's call too; checkApproval still decides the rest.
    const check = checkApproval(approval, { tool: call.tool, args: asApproved && !asRequested ? approval.args : call.args });
    return check.granted ? { status: 'allow', args: check.args, reason: approval.resolution, approval } : { status: 'deny', reason: check.reason, approval };
  } catch (error) {
    return { status: 'deny', reason: failClosed(error) };
  }
}

/** The one place this adapter turns a failure on the way to the control plane into a refusal's reason. Internal. */
export function failClosed(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `Not run (fail-closed): ${message}`;
}

async function settle(signoff: Signoff, approval: ApprovalRequest, options: GetToolCallVerdictOptions): Promise<ApprovalRequest> {
  if (approval.status !== 'pending' || !options.wait) return approval;
  try {
    return await signoff.waitForDecision(approval.id, {
      ...(typeof options.wait === 'object' ? { timeoutMs: options.wait.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    // Our own patience ran out, not the request's: it is still pending on the control plane.
    if (SignoffError.isInstance(error) && error.code === 'APPROVAL_EXPIRED') return approval;
    throw error;
  }
}
