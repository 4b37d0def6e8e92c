import { ToolMessage, type ToolCall } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import { DynamicStructuredTool, type StructuredToolInterface, type ToolRunnableConfig } from '@langchain/core/tools';
import { checkApproval, hashArgs, type ApprovalCheck, type ApprovalRequest, type ExecutionGrant, type Signoff } from '@signoff/core';
import { callKey } from './call-key.js';
import { checkFrameworkVersions } from './check-framework-versions.js';
import { refusalReason, runGranted } from './run-granted.js';
import { ToolDeniedError } from './tool-denied-error.js';

export interface WrapToolOptions {
  /** Caller facts for the policy's `context.…` conditions. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** The user the agent acts for; they can never approve the request themselves. */
  readonly onBehalfOf?: string;
  /** Outside a graph run: stop waiting for reviewers after this long (not run); default: the request's own deadline. */
  readonly timeoutMs?: number;
}

const GATED = Symbol.for('signoff.langchain.gated-tool');
const APPROVAL_ID = Symbol.for('signoff.langchain.approval-id');

/**
 * The tool-level gate: returns a tool (same name, description and schema) that decides inside its
 * own execution, so it runs nothing unapproved even when the framework never called
 * `signoffMiddleware` (left out, misconfigured, or a version that skips `wrapToolCall`).
 *
 * - The local policy decides on the args the tool received: allow → runs (no control-plane
 *   traffic); deny → never runs.
 * - Escalated, inside a graph run (a `thread_id` and a tool call id): it does not wait — pausing is
 *   the middleware's job. It finds the approval `signoffMiddleware` made for this call (the id the
 *   middleware hands over, else the idempotency key `${thread_id}:${toolCall.id}`), checks it is
 *   granted for this tool and for these args (the request's args, or its approved args when a hook
 *   already swapped the reviewers' edit in), **claims** it (single use) and runs the claimed args.
 *   No approval, a pending or denied one, or one already used → the model gets an error
 *   `ToolMessage` saying why. A call the middleware hands over with an approval id is claimed even
 *   when the tool's own decision would allow its args, so a `context` only the middleware knows
 *   cannot turn a claimed call into an unclaimed one.
 * - Outside a graph run (plain `tool.invoke(args)`): blocking mode. It asks for approval, waits for
 *   reviewers (the process must stay alive), claims, and runs the approved — possibly edited — args,
 *   or throws {@link ToolDeniedError}.
 *
 * The claim happens here and only here for wrapped tools; `signoffMiddleware` recognises them and
 * leaves the claim to them. Throws `CONFIG_INVALID` when the installed `@langchain/core` is not 1.x.
 *
 * @example
 * const agent = createAgent({ model, tools: [wrapTool(sendPayment, signoff)], checkpointer, middleware: [signoffMiddleware(signoff)] });
 * await wrapTool(sendPayment, signoff).invoke({ to: 'acme', amount: 500 }); // blocking mode: resolves once approved
 */
export function wrapTool<TTool extends StructuredToolInterface>(tool: TTool, signoff: Signoff, options: WrapToolOptions = {}): DynamicStructuredTool<TTool['schema']> {
  checkFrameworkVersions();
  const gated = new DynamicStructuredTool<TTool['schema']>({
    name: tool.name,
    description: tool.description,
    schema: tool.schema,
    async func(parsedArgs: unknown, _runManager, config?: RunnableConfig) {
      const { toolCall, ...runConfig } = (config ?? {}) as ToolRunnableConfig;
      const run = (args: unknown) => tool.invoke(args as Parameters<TTool['invoke']>[0], runConfig);
      const threadId = runConfig.configurable?.thread_id as string | undefined;
      const approvalId = approvalIdOf(toolCall);
      if (!toolCall?.id || (!threadId && !approvalId)) {
        const authorization = await signoff.authorize(tool.name, parsedArgs, {
          ...(options.context ? { context: options.context } : {}),
          ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
          ...(runConfig.signal ? { signal: runConfig.signal } : {}),
        });
        if (!authorization.granted) throw new ToolDeniedError(authorization);
        return runGranted(signoff, authorization.execution, () => run(authorization.args));
      }
      // The args as the model (or a hook) sent them: what the middleware's request was made with.
      const args = toolCall.args;
      const key = threadId ? callKey(threadId, toolCall.id) : undefined;
      const decision = signoff.guard(tool.name, args, options.context, key === undefined ? undefined : { callId: key });
      if (decision.action === 'deny') return refusal(toolCall, decision.reason);
      if (decision.action === 'allow' && !approvalId) return run(args);
      const verdict = await claim(signoff, tool.name, args, {
        approvalId,
        idempotencyKey: key,
        needs: decision.reason,
        signal: runConfig.signal,
      });
      if (!verdict.granted) return refusal(toolCall, verdict.reason);
      return runGranted(signoff, verdict.grant, () => run(verdict.grant.args));
    },
  });
  return Object.assign(gated, { [GATED]: true });
}

/** Whether a tool came from {@link wrapTool} (it checks and claims inside its own execution). Internal. */
export function isGatedTool(tool: unknown): boolean {
  return typeof tool === 'object' && tool !== null && (tool as Record<symbol, unknown>)[GATED] === true;
}

/** The tool call with the approval the middleware settled for it, for a gated tool to claim. Internal. */
export function withApprovalId(toolCall: ToolCall, approvalId: string): ToolCall {
  return { ...toolCall, [APPROVAL_ID]: approvalId } as ToolCall;
}

function approvalIdOf(toolCall: ToolCall | undefined): string | undefined {
  const id = (toolCall as Record<symbol, unknown> | undefined)?.[APPROVAL_ID];
  return typeof id === 'string' ? id : undefined;
}

interface ClaimOptions {
  readonly approvalId: string | undefined;
  /** Set whenever `approvalId` is not (a call with neither takes the blocking path). */
  readonly idempotencyKey: string | undefined;
  /** Why the policy escalates, for the message when nobody asked for approval yet. */
  readonly needs: string;
  readonly signal: AbortSignal | undefined;
}

/**
 * Finds this call's approval, checks it covers the call and claims it. The one place the tool-level
 * gate fails closed: a control-plane failure or a refused claim becomes "not granted" with the reason.
 */
async function claim(signoff: Signoff, tool: string, args: unknown, options: ClaimOptions): Promise<{ granted: true; grant: ExecutionGrant } | { granted: false; reason: string }> {
  try {
    const approval = options.approvalId
      ? await signoff.getApproval(options.approvalId, options.signal)
      : options.idempotencyKey && (await signoff.findApproval(options.idempotencyKey, options.signal));
    if (!approval) {
      return { granted: false, reason: `Not run: this call needs approval (${options.needs}) and none was requested for it; gate the agent with signoffMiddleware so the run pauses until reviewers decide` };
    }
    const check = covers(approval, tool, args);
    if (!check.granted) return check;
    return { granted: true, grant: await signoff.claimExecution(approval, options.signal ? { signal: options.signal } : {}) };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { granted: false, reason: refusalReason(error) };
  }
}

/** `checkApproval`, accepting the call's args as sent or as the reviewers approved them (a hook may have swapped them in). */
function covers(approval: ApprovalRequest, tool: string, args: unknown): ApprovalCheck {
  const argsHash = hashArgs(args);
  if (approval.tool === tool && argsHash !== approval.argsHash && argsHash !== approval.approvedArgsHash) {
    return { granted: false, reason: `approval ${approval.id} covers other args than this call's` };
  }
  return checkApproval(approval, { tool, args: argsHash === approval.argsHash ? args : approval.args });
}

function refusal(toolCall: ToolCall, reason: string): ToolMessage {
  return new ToolMessage({ content: reason, tool_call_id: toolCall.id ?? '', name: toolCall.name, status: 'error' });
}
