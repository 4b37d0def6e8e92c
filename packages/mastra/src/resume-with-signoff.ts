import { checkApproval, hashArgs, type ApprovalRequest, type Signoff } from '@signoff/core';
import type { Agent, AgentRunToolCall } from '@mastra/core/agent';
import type { FullOutput } from '@mastra/core/stream';
import { assertSupportedMastraVersion } from './assert-supported-mastra-version.js';
import { idempotencyKeyOf, type SignoffMastraOptions } from './with-signoff.js';

/**
 * Options of {@link resumeWithSignoff}.
 *
 * @example
 * const options: ResumeWithSignoffOptions = { runId: output.runId!, toolCallId: output.suspendPayload.toolCallId, wait: { timeoutMs: 60_000 } };
 */
export interface ResumeWithSignoffOptions extends SignoffMastraOptions {
  /** The suspended run (`output.runId`). */
  readonly runId: string;
  /** Resume only this call (e.g. the `tool-call-approval` chunk's `toolCallId`); default: the call the run is suspended on. */
  readonly toolCallId?: string;
  /** Narrows the storage look-up of the suspended run to a conversation. */
  readonly threadId?: string;
  readonly resourceId?: string;
  /** How long to wait for reviewers (default `true`: until the request's deadline); `false` only files the request. */
  readonly wait?: boolean | { readonly timeoutMs: number };
  readonly signal?: AbortSignal;
}

/**
 * What {@link resumeWithSignoff} did. Only `approved` and `declined` resumed the run (`output` is
 * what `approveToolCallGenerate` / `declineToolCallGenerate` returned: it may be suspended again
 * on the run's next escalated call). `pending` and `stale` left the run suspended as it was.
 *
 * @example
 * if (result.status === 'approved') console.log(result.output.text);
 */
export type ResumeWithSignoffResult =
  | { readonly status: 'approved' | 'declined'; readonly toolCallId: string; readonly reason: string; readonly approval?: ApprovalRequest; readonly output: ResumeOutput }
  | { readonly status: 'pending'; readonly toolCallId: string; readonly reason: string; readonly approval: ApprovalRequest }
  | { readonly status: 'stale'; readonly toolCallId?: string; readonly reason: string; readonly approval?: ApprovalRequest };

/** What `agent.generate` returns for an agent without structured output. */
type ResumeOutput = FullOutput<undefined>;

/**
 * Resumes a Mastra run suspended on a Signoff-gated tool call, by that exact call and only from the
 * control plane's verdict. It reads the suspended call from Mastra's storage, asks the local policy
 * again, files the approval request (idempotent on run id + tool call id, so a retry or another
 * process reuses it), waits for reviewers, then re-reads the snapshot and checks it still holds
 * that call with the args the request was for before calling `approveToolCallGenerate` (granted)
 * or `declineToolCallGenerate` (denied, expired, already used: with the reason) with its
 * `toolCallId`. It never approves without the control plane, and it does not claim: the wrapped
 * tool claims inside its own execution. Control-plane failures throw `SignoffError` and leave the
 * run suspended.
 *
 * @example
 * let output = await agent.generate('Pay acme $500');
 * while (output.finishReason === 'suspended') {
 *   const resumed = await resumeWithSignoff(agent, signoff, { runId: output.runId! });
 *   if (resumed.status !== 'approved' && resumed.status !== 'declined') break;
 *   output = resumed.output;
 * }
 */
export async function resumeWithSignoff(agent: Agent, signoff: Signoff, options: ResumeWithSignoffOptions): Promise<ResumeWithSignoffResult> {
  assertSupportedMastraVersion();
  const call = await suspendedCall(agent, options);
  if (!call?.toolCallId || !call.toolName) {
    return { status: 'stale', ...(options.toolCallId ? { toolCallId: options.toolCallId } : {}), reason: `run ${options.runId} is not suspended on ${options.toolCallId ? `tool call ${options.toolCallId}` : 'a tool call approval'}` };
  }
  const { toolCallId, toolName } = call;
  const idempotencyKey = idempotencyKeyOf({ runId: options.runId, toolCallId, toolName }, options);
  // Named by its key: allowed here and again by the wrapped tool's execute, the call is reported once.
  const decision = signoff.guard(toolName, call.args, options.context, { callId: idempotencyKey });
  if (decision.action === 'deny') return decline(agent, options, { toolCallId, reason: decision.reason });
  // A call the policy allows now runs without a request; the wrapped tool's execute asks the policy again.
  if (decision.action === 'allow') return approve(agent, options, { toolCallId, reason: decision.reason });

  const created = await signoff.requestApproval(decision, {
    idempotencyKey,
    ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const wait = options.wait ?? true;
  if (created.status === 'pending' && wait === false) return { status: 'pending', toolCallId, reason: `approval ${created.id} is pending`, approval: created };
  const approval =
    created.status === 'pending'
      ? await signoff
          .waitForDecision(created.id, { ...(typeof wait === 'object' ? { timeoutMs: wait.timeoutMs } : {}), ...(options.signal ? { signal: options.signal } : {}) })
          .catch((error: unknown) => (error instanceof Error && 'code' in error && error.code === 'APPROVAL_EXPIRED' ? undefined : Promise.reject(error)))
      : created;
  if (!approval) return { status: 'pending', toolCallId, reason: `no decision on approval ${created.id} in time`, approval: created };

  // Reviewers may take hours: the run may have moved on, or been resumed by someone else, since.
  const current = await suspendedCall(agent, { ...options, toolCallId });
  if (!current || current.toolName !== toolName || hashArgs(current.args) !== approval.argsHash) {
    return { status: 'stale', toolCallId, reason: `run ${options.runId} no longer holds tool call ${toolCallId} with the args approval ${approval.id} is for; nothing resumed`, approval };
  }
  const check = checkApproval(approval, { tool: toolName, args: current.args });
  return check.granted ? approve(agent, options, { toolCallId, reason: approval.resolution, approval }) : decline(agent, options, { toolCallId, reason: check.reason, approval });
}

interface Resolution {
  readonly toolCallId: string;
  readonly reason: string;
  readonly approval?: ApprovalRequest;
}

async function approve(agent: Agent, options: ResumeWithSignoffOptions, resolution: Resolution): Promise<ResumeWithSignoffResult> {
  const output = await agent.approveToolCallGenerate<undefined>({ runId: options.runId, toolCallId: resolution.toolCallId });
  return { status: 'approved', ...resolution, output };
}

async function decline(agent: Agent, options: ResumeWithSignoffOptions, resolution: Resolution): Promise<ResumeWithSignoffResult> {
  const output = await agent.declineToolCallGenerate<undefined>({ runId: options.runId, toolCallId: resolution.toolCallId, reason: resolution.reason });
  return { status: 'declined', ...resolution, output };
}

/** The approval-waiting call the run's stored snapshot holds (the named one, or the first). */
async function suspendedCall(agent: Agent, options: ResumeWithSignoffOptions): Promise<AgentRunToolCall | undefined> {
  const { runs } = await agent.listSuspendedRuns({
    ...(options.threadId ? { threadId: options.threadId } : {}),
    ...(options.resourceId ? { resourceId: options.resourceId } : {}),
  });
  const run = runs.find((candidate) => candidate.runId === options.runId);
  return run?.toolCalls.find((toolCall) => toolCall.requiresApproval && (options.toolCallId === undefined || toolCall.toolCallId === options.toolCallId));
}
