import { ToolMessage } from '@langchain/core/messages';
import { interrupt, isGraphInterrupt } from '@langchain/langgraph';
import { checkApproval, SignoffError, type ApprovalRequest, type Decision, type ExecutionGrant, type Signoff } from '@signoff/core';
import { createMiddleware, type AgentMiddleware, type ToolCallRequest } from 'langchain';
import { callKey } from './call-key.js';
import { checkFrameworkVersions } from './check-framework-versions.js';
import { refusalReason, runGranted } from './run-granted.js';
import type { SignoffInterrupt } from './signoff-interrupt.js';
import { isGatedTool, withApprovalId } from './wrap-tool.js';

export interface SignoffMiddlewareOptions {
  /** Caller facts for the policy's `context.…` conditions (agent id, user, environment, …). */
  readonly context?: (request: ToolCallRequest) => Readonly<Record<string, unknown>> | undefined;
  /** The user the agent acts for; they can never approve the request themselves. */
  readonly onBehalfOf?: (request: ToolCallRequest) => string | undefined;
  /** Link shown in the interrupt payload; `{id}` is replaced by the approval id, e.g. `https://signoff.internal/inbox/{id}`. */
  readonly inboxUrl?: string;
}

const SIGNOFF_CLIENT = Symbol.for('signoff.langchain.client');
/** Where LangGraph puts the run's checkpointer in `configurable` (what its own `interrupt()` checks). */
const CHECKPOINTER_KEY = '__pregel_checkpointer';

/**
 * Gates every tool call of a `createAgent` agent through Signoff, in `wrapToolCall`:
 * - allow → the tool runs;
 * - deny → an error `ToolMessage` with the policy's reason (the model sees why; the tool never runs);
 * - escalate → the approval request is created idempotently on `${thread_id}:${toolCall.id}` and
 *   the call pauses with LangGraph's `interrupt()` and a {@link SignoffInterrupt} payload.
 *
 * When the graph resumes, the gate asks the control plane for the request's state (the resume value
 * is never trusted). Granted → the approval is **claimed** (a single-use grant: the control plane
 * moves it to `executed` once) and the tool runs with the approved — possibly edited — args;
 * otherwise an error `ToolMessage` carries the resolution (denied, expired, or "already used at …"
 * when another resume, process or retried webhook ran it first). Resumed while still pending, it
 * pauses again. A control plane that cannot be reached closes the call (error `ToolMessage`).
 * Escalations need a checkpointer and a `thread_id`, like every LangGraph interrupt.
 *
 * A tool wrapped with {@link wrapTool} claims for itself, so for those the middleware pauses and
 * checks but does not claim: each call is claimed in exactly one place, the one closest to the
 * tool (a second claim would be refused and the approved call would never run). The middleware
 * hands such a tool the original call plus the approval id, and the tool checks, claims and runs
 * the approved args. Throws `CONFIG_INVALID` when the installed LangChain is not 1.x.
 *
 * @example
 * const agent = createAgent({ model, tools: [sendPayment], checkpointer: new MemorySaver(), middleware: [signoffMiddleware(signoff)] });
 * const config = { configurable: { thread_id: 'order-42' } };
 * let result = await agent.invoke({ messages: [{ role: 'user', content: 'Pay ACME $500' }] }, config);
 * if (result.__interrupt__) result = await resumeWhenDecided(agent, config);
 */
export function signoffMiddleware(signoff: Signoff, options: SignoffMiddlewareOptions = {}): AgentMiddleware {
  checkFrameworkVersions();
  const middleware = createMiddleware({
    name: 'SignoffMiddleware',
    async wrapToolCall(request, handler) {
      const { toolCall } = request;
      const threadId = request.runtime.configurable?.thread_id;
      const key = threadId && toolCall.id ? callKey(threadId, toolCall.id) : undefined;
      const decision = signoff.guard(toolCall.name, toolCall.args, options.context?.(request), key === undefined ? undefined : { callId: key });
      if (decision.action === 'allow') return handler(request);
      if (decision.action === 'deny') return refusal(request, decision.reason);
      if (key === undefined || !toolCall.id) {
        throw new SignoffError('INVALID_ARGUMENT', `escalated call ${toolCall.name} needs a thread_id in the run's configurable and a tool call id`);
      }
      // Without a checkpointer interrupt() cannot pause: say so before asking anyone, so no request
      // is left pending on the control plane for a call that can never run.
      if (!(request.runtime.configurable as Record<string, unknown> | undefined)?.[CHECKPOINTER_KEY]) {
        throw new SignoffError('INVALID_ARGUMENT', `escalated call ${toolCall.name} needs a checkpointer on the agent (createAgent({ checkpointer })) to pause; nothing was requested`);
      }
      const gated = isGatedTool(request.tool);
      const verdict = await settle(signoff, decision, {
        idempotencyKey: key,
        toolCallId: toolCall.id,
        onBehalfOf: options.onBehalfOf?.(request),
        inboxUrl: options.inboxUrl,
        signal: request.runtime.signal,
        claim: !gated,
      });
      if (!verdict.granted) return refusal(request, verdict.reason);
      // A gated tool claims and swaps in the approved args itself; it gets the call as the model made it.
      if (gated) return handler({ ...request, toolCall: withApprovalId(toolCall, verdict.approval.id) });
      const { grant } = verdict;
      return runGranted(signoff, grant, async () => handler({ ...request, toolCall: { ...toolCall, args: grant?.args as Record<string, unknown> } }));
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
  /** Claim the grant here (the tool is not gated itself). */
  readonly claim: boolean;
}

type Verdict = { readonly granted: true; readonly approval: ApprovalRequest; readonly grant: ExecutionGrant | undefined } | { readonly granted: false; readonly reason: string };

/**
 * Creates (or replays) the request, pauses until the control plane says it is resolved, checks the
 * verdict covers this call and (unless the tool claims itself) claims it. The one place the
 * middleware fails closed: any control-plane failure or refused claim becomes "not granted", while
 * LangGraph's own interrupt and an aborted run propagate.
 */
async function settle(signoff: Signoff, decision: Decision, options: SettleOptions): Promise<Verdict> {
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
    const check = checkApproval(approval, { tool: decision.tool, args: decision.args });
    if (!check.granted) return check;
    const grant = options.claim ? await signoff.claimExecution(approval, options.signal ? { signal: options.signal } : {}) : undefined;
    return { granted: true, approval, grant };
  } catch (error) {
    if (isGraphInterrupt(error) || options.signal?.aborted) throw error;
    return { granted: false, reason: refusalReason(error) };
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
