import { ToolMessage } from '@langchain/core/messages';
import { interrupt, isGraphInterrupt } from '@langchain/langgraph';
import { checkApproval, SignoffError, type ApprovalCheck, type ApprovalRequest, type Decision, type Signoff } from '@signoff/core';
import { createMiddleware, type AgentMiddleware, type ToolCallRequest } from 'langchain';
import type { SignoffInterrupt } from './signoff-interrupt.js';

export interface SignoffMiddlewareOptions {
  /** Caller facts for the policy's `context.…` conditions (agent id, user, environment, …). */
  readonly context?: (request: ToolCallRequest) => Readonly<Record<string, unknown>> | undefined;
  /** The user the agent acts for; they can never approve the request themselves. */
  readonly onBehalfOf?: (request: ToolCallRequest) => string | undefined;
  /** Link shown in the interrupt payload; `{id}` is replaced by the approval id, e.g. `https://signoff.internal/inbox/{id}`. */
  readonly inboxUrl?: string;
}

const SIGNOFF_CLIENT = Symbol.for('signoff.langchain.client');

/**
 * Gates every tool call of a `createAgent` agent through Signoff, in `wrapToolCall`:
 * - allow → the tool runs;
 * - deny → an error `ToolMessage` with the policy's reason (the model sees why; the tool never runs);
 * - escalate → the approval request is created idempotently on `${thread_id}:${toolCall.id}` and
 *   the call pauses with LangGraph's `interrupt()` and a {@link SignoffInterrupt} payload.
 *
 * When the graph resumes, the gate asks the control plane for the request's state (the resume value
 * is never trusted) and runs the tool with the approved — possibly edited — args, or answers with an
 * error `ToolMessage` carrying the resolution (denied, expired). Resumed while still pending, it
 * pauses again. A control plane that cannot be reached closes the call (error `ToolMessage`).
 * Escalations need a checkpointer and a `thread_id`, like every LangGraph interrupt.
 *
 * @example
 * const agent = createAgent({ model, tools: [sendPayment], checkpointer: new MemorySaver(), middleware: [signoffMiddleware(signoff)] });
 * const config = { configurable: { thread_id: 'order-42' } };
 * let result = await agent.invoke({ messages: [{ role: 'user', content: 'Pay ACME $500' }] }, config);
 * if (result.__interrupt__) result = await resumeWhenDecided(agent, config);
 */
export function signoffMiddleware(signoff: Signoff, options: SignoffMiddlewareOptions = {}): AgentMiddleware {
  const middleware = createMiddleware({
    name: 'SignoffMiddleware',
    async wrapToolCall(request, handler) {
      const { toolCall } = request;
      const decision = signoff.guard(toolCall.name, toolCall.args, options.context?.(request));
      if (decision.action === 'allow') return handler(request);
      if (decision.action === 'deny') return refusal(request, decision.reason);
      const threadId = request.runtime.configurable?.thread_id;
      if (!threadId || !toolCall.id) {
        throw new SignoffError('INVALID_ARGUMENT', `escalated call ${toolCall.name} needs a thread_id in the run's configurable and a tool call id`);
      }
      const check = await settle(signoff, decision, {
        idempotencyKey: `${threadId}:${toolCall.id}`,
        toolCallId: toolCall.id,
        onBehalfOf: options.onBehalfOf?.(request),
        inboxUrl: options.inboxUrl,
        signal: request.runtime.signal,
      });
      return check.granted ? handler({ ...request, toolCall: { ...toolCall, args: check.args as Record<string, unknown> } }) : refusal(request, check.reason);
    },
  });
  return Object.assign(middleware, { [SIGNOFF_CLIENT]: signoff });
}

/** The Signoff client a middleware built by {@link signoffMiddleware} gates with (for `resumeWhenDecided`). */
export function signoffClientOf(middleware: unknown): Signoff | undefined {
  return typeof middleware === 'object' && middleware !== null ? (middleware as { [SIGNOFF_CLIENT]?: Signoff })[SIGNOFF_CLIENT] : undefined;
}

interface SettleOptions {
  readonly idempotencyKey: string;
  readonly toolCallId: string;
  readonly onBehalfOf: string | undefined;
  readonly inboxUrl: string | undefined;
  readonly signal: AbortSignal | undefined;
}

/**
 * Creates (or replays) the request and pauses until the control plane says it is resolved. The one
 * place this adapter fails closed: any control-plane failure becomes "not granted", while LangGraph's
 * own interrupt and an aborted run propagate.
 */
async function settle(signoff: Signoff, decision: Decision, options: SettleOptions): Promise<ApprovalCheck> {
  try {
    let approval = await signoff.requestApproval(decision, {
      idempotencyKey: options.idempotencyKey,
      ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // On replay, interrupt() returns the resume value instead of pausing; we ignore it and ask the
    // authority. Still pending (an early or forged resume) → the next interrupt() pauses again.
    while (approval.status === 'pending') {
      interrupt(toInterrupt(approval, options));
      approval = await signoff.getApproval(approval.id, options.signal);
    }
    return checkApproval(approval, { tool: decision.tool, args: decision.args });
  } catch (error) {
    if (isGraphInterrupt(error) || options.signal?.aborted) throw error;
    return { granted: false, reason: `Not run (fail-closed): ${error instanceof Error ? error.message : String(error)}` };
  }
}

function toInterrupt(approval: ApprovalRequest, options: SettleOptions): SignoffInterrupt {
  return {
    type: 'signoff.approval',
    approvalId: approval.id,
    tool: approval.tool,
    args: approval.args,
    toolCallId: options.toolCallId,
    reason: approval.reason,
    requiredApprovals: approval.requirements.requiredApprovals,
    approverRoles: approval.requirements.approverRoles,
    expiresAt: approval.expiresAt,
    inboxUrl: options.inboxUrl?.replaceAll('{id}', encodeURIComponent(approval.id)),
  };
}

function refusal(request: ToolCallRequest, reason: string): ToolMessage {
  return new ToolMessage({ content: reason, tool_call_id: request.toolCall.id ?? '', name: request.toolCall.name, status: 'error' });
}
