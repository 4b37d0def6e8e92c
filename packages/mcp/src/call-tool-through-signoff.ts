import { checkApproval, hashArgs, SignoffError, type ApprovalRequest, type Signoff } from '@signoff/core';
import type { CallToolResult } from '@modelcontextprotocol/server';

/** One `tools/call` as the proxy received it, and where it came from. */
export interface ProxiedToolCall {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  /** Names the MCP server, the client and the session; sent to the control plane and visible to `context.*` rules. */
  readonly context: { readonly server: string; readonly client: string; readonly session: string };
}

/**
 * How {@link callToolThroughSignoff} waits for reviewers and reaches the upstream server.
 *
 * @example
 * const options: CallThroughOptions = { holdMs: 50_000, forward: (args) => upstream.callTool({ name, arguments: args }) };
 */
export interface CallThroughOptions {
  /** Runs the call on the upstream server with these args; its result (or error) is the answer, unchanged. */
  readonly forward: (args: Record<string, unknown>) => Promise<CallToolResult>;
  /**
   * Checked after approval and before the single-use grant is claimed: an answer (a refusal)
   * means the call cannot run now, and the approval stays unused for a later retry.
   */
  readonly ready?: () => Promise<CallToolResult | undefined>;
  /** How long an escalated call is held open waiting for reviewers before the "awaiting approval" answer. */
  readonly holdMs: number;
  /** Called every `progressIntervalMs` while held, so clients that reset their timeout on progress keep waiting. */
  readonly onHoldProgress?: (message: string) => Promise<void>;
  readonly progressIntervalMs?: number;
  readonly signal?: AbortSignal;
}

/** The `_meta` key under which results name the approval, for clients that want it as data. */
export const APPROVAL_META_KEY = 'dev.signoff/approval';

/**
 * Guards one MCP tool call and answers it the MCP way: `allow` forwards it; `deny` returns a tool
 * error result with the reason; `escalate` finds or creates the approval request for this exact call
 * (idempotency key: session + client + tool + args hash, so the model's retry with identical args finds it),
 * holds up to `holdMs` for a decision, and runs the call only once approved, after claiming the
 * single-use grant — with the reviewers' edited args when they edited them. Still pending: a result
 * saying the call awaits approval `apr_…` and that the same call, repeated, runs it once approved.
 * Any failure to reach the control plane returns a refusal: nothing is forwarded (fail-closed).
 *
 * @example
 * const result = await callToolThroughSignoff(signoff, { tool: 'payment_send', args, context }, { holdMs: 50_000, forward });
 */
export async function callToolThroughSignoff(signoff: Signoff, call: ProxiedToolCall, options: CallThroughOptions): Promise<CallToolResult> {
  const context = { mcp: call.context };
  const decision = signoff.guard(call.tool, call.args, context);
  if (decision.action === 'allow') return options.forward(call.args);
  if (decision.action === 'deny') return refusal(`Denied by Signoff policy: ${decision.reason}`);

  let approval: ApprovalRequest;
  try {
    const idempotencyKey = `mcp:${call.context.session}:${call.context.client}:${call.tool}:${hashArgs(call.args)}`;
    const existing = await signoff.findApproval(idempotencyKey, options.signal);
    approval = existing ?? (await signoff.requestApproval({ ...decision, context }, { idempotencyKey, ...(options.signal ? { signal: options.signal } : {}) }));
    if (approval.status === 'pending') approval = await hold(signoff, approval, options);
    if (approval.status === 'pending') {
      return refusal(
        `Awaiting human approval: ${approval.id} (${decision.reason}). The call has not run. Calling ${call.tool} again with exactly the same arguments ` +
          `runs it once a reviewer approves (before ${approval.expiresAt}); until then the same call returns this answer.`,
        approval,
      );
    }
    const check = checkApproval(approval, { tool: call.tool, args: call.args });
    if (!check.granted) return refusal(`Not run: ${check.reason}`, approval);
    const notReady = await options.ready?.();
    if (notReady) return { ...notReady, _meta: { ...notReady._meta, [APPROVAL_META_KEY]: { id: approval.id, status: approval.status } } };
    const grant = await signoff.claimExecution(approval, options.signal ? { signal: options.signal } : {});
    const result = await forwardGranted(signoff, grant, options);
    return { ...result, _meta: { ...result._meta, [APPROVAL_META_KEY]: { id: approval.id, status: 'executed' } } };
  } catch (error) {
    return failClosed(error);
  }
}

/** Waits for a decision up to the hold, telling the client it is still waiting; pending when the hold ends first. */
async function hold(signoff: Signoff, approval: ApprovalRequest, options: CallThroughOptions): Promise<ApprovalRequest> {
  if (options.holdMs <= 0) return approval;
  const message = `Awaiting human approval ${approval.id}`;
  const ticker = options.onHoldProgress
    ? setInterval(() => void options.onHoldProgress?.(message).catch(() => undefined), options.progressIntervalMs ?? 5_000)
    : undefined;
  try {
    await options.onHoldProgress?.(message).catch(() => undefined);
    return await signoff.waitForDecision(approval.id, { timeoutMs: options.holdMs, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    // The hold ran out: the request is still pending on the control plane (the model is told so).
    if (SignoffError.isInstance(error) && error.code === 'APPROVAL_EXPIRED') return approval;
    throw error;
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

async function forwardGranted(signoff: Signoff, grant: Awaited<ReturnType<Signoff['claimExecution']>>, options: CallThroughOptions): Promise<CallToolResult> {
  let result: CallToolResult;
  try {
    result = await options.forward(grant.args as Record<string, unknown>);
  } catch (error) {
    await signoff.reportOutcome(grant, 'failed', { detail: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
    throw new ForwardError(error);
  }
  await signoff.reportOutcome(grant, result.isError ? 'failed' : 'succeeded').catch(() => undefined);
  return result;
}

/** An upstream error after a claimed grant: it passes through unchanged, it is not a Signoff failure. */
class ForwardError extends Error {
  constructor(readonly upstream: unknown) {
    super('upstream error');
  }
}

function refusal(text: string, approval?: ApprovalRequest): CallToolResult {
  return {
    content: [{ type: 'text', text }],
    isError: true,
    ...(approval ? { _meta: { [APPROVAL_META_KEY]: { id: approval.id, status: approval.status } } } : {}),
  };
}

/** The one place the proxy turns a control-plane failure into "not forwarded". Upstream errors pass through. */
function failClosed(error: unknown): CallToolResult {
  if (error instanceof ForwardError) throw error.upstream;
  const code = SignoffError.isInstance(error) ? error.code : 'CONTROL_PLANE_UNAVAILABLE';
  const message = error instanceof Error ? error.message : String(error);
  return refusal(`Not run (fail-closed, ${code}): ${message}`);
}
