import type { Agent, RunContext, RunResult, RunState, RunToolApprovalItem } from '@openai/agents';
import type { ApprovalRequest, Signoff } from '@signoff/core';
import { callKey } from './call-key.js';
import { askForApproval, type ApprovalVerdict } from './ask-for-approval.js';
import { assertSupportedFramework } from './assert-supported-framework.js';
import { parseArguments } from './parse-arguments.js';
import { claimGrant } from './run-claimed.js';
import { isGatedTool, type SignoffAgentsOptions } from './with-signoff.js';

export interface ResolveInterruptionsOptions<TContext = unknown> extends SignoffAgentsOptions<TContext> {
  /** Long-poll each request until it resolves (or `timeoutMs`, then reject); default: look once and report `pending`. */
  readonly wait?: boolean;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What `resolveInterruptions` did to each interruption of the run state. */
export interface ResolvedInterruptions<TState> {
  /** The run state, with approvals and rejections applied. Run it again when `pending` is empty; store `state.toString()` otherwise. */
  readonly state: TState;
  readonly approved: RunToolApprovalItem[];
  /** Rejected with a message the model sees: the reviewers' or the policy's reason. */
  readonly rejected: RunToolApprovalItem[];
  /** Still waiting for reviewers; their requests exist, so reviewers have been notified. */
  readonly pending: RunToolApprovalItem[];
  /** Interruptions Signoff's policy does not escalate (a tool's own `needsApproval`, hosted or MCP tools): yours to resolve. */
  readonly skipped: RunToolApprovalItem[];
  /** The control plane's requests behind the approved, rejected and pending calls, by call id (to show reviewers, or log). */
  readonly approvals: Record<string, ApprovalRequest>;
}

/**
 * Answers a run's interruptions from the control plane's verdicts: for each escalated call it
 * creates the approval request (or replays it by its idempotency key), then approves the call when
 * the control plane granted it and rejects it — with the reason as the model-visible message — when
 * the reviewers denied it or it expired — or was already used: an approval runs its call once, so
 * resolving the same saved state again rejects that call with "already used". Works on a `RunResult`
 * or on a `RunState` restored with `RunState.fromString(agent, saved)` after a restart.
 *
 * It never claims for a tool wrapped with `withSignoff`: that tool's own `invoke` claims, just before
 * it runs (claiming here too would make that claim fail). For an escalated call of a tool that is not
 * wrapped (a plain tool with its own `needsApproval`), nothing else would claim, so it claims here
 * before approving — and rejects the call when the reviewers edited its args, which the SDK could not
 * run. Throws `CONFIG_INVALID` when the installed `@openai/agents` is not `>=0.20.0 <1`.
 *
 * @example
 * let result = await run(agent, 'Pay acme $500');
 * const { state, pending } = await resolveInterruptions(result, signoff);
 * if (pending.length > 0) await db.save(threadId, state.toString());
 * else result = await run(agent, state);
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function resolveInterruptions<TContext, TAgent extends Agent<any, any>, TOptionsContext = TContext>(
  source: RunResult<TContext, TAgent> | RunState<TContext, TAgent>,
  signoff: Signoff,
  options: ResolveInterruptionsOptions<TOptionsContext> = {},
): Promise<ResolvedInterruptions<RunState<TContext, TAgent>>> {
  assertSupportedFramework('@openai/agents');
  const state = 'getInterruptions' in source ? source : source.state;
  // RunState keeps its RunContext in `_context`; it is where the SDK itself reads approvals from.
  // A state restored with RunState.fromString types its context as unknown, hence the separate options type.
  const runContext = state._context as unknown as RunContext<TOptionsContext>;
  const runId = options.runId?.(runContext);
  const onBehalfOf = options.onBehalfOf?.(runContext);
  const interruptions = state.getInterruptions();
  const verdicts = await Promise.all(
    interruptions.map(async (item): Promise<ApprovalVerdict | 'skip'> => {
      if (item.rawItem.type !== 'function_call' || !item.name) return 'skip';
      const parsed = parseArguments(item.rawItem.arguments);
      if (!parsed.ok) return { kind: 'refused', reason: `its arguments are not valid JSON (${parsed.error})` };
      const idempotencyKey = callKey(runId, item.rawItem.callId);
      const decision = signoff.guard(item.name, parsed.args, options.context?.(runContext), { callId: idempotencyKey });
      if (decision.action === 'allow') return 'skip';
      if (decision.action === 'deny') return { kind: 'refused', reason: decision.reason };
      const verdict = await askForApproval(signoff, decision, {
        idempotencyKey,
        wait: options.wait ?? false,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(onBehalfOf ? { onBehalfOf } : {}),
      });
      const tool = item.agent.tools.find((each) => each.type === 'function' && each.name === item.name);
      return verdict.kind === 'granted' && !isGatedTool(tool) ? claimForUngatedTool(signoff, verdict, options.signal) : verdict;
    }),
  );
  const resolved: ResolvedInterruptions<RunState<TContext, TAgent>> = { state, approved: [], rejected: [], pending: [], skipped: [], approvals: {} };
  interruptions.forEach((item, index) => {
    const verdict = verdicts[index] as ApprovalVerdict | 'skip';
    if (verdict !== 'skip' && verdict.approval && item.rawItem.type === 'function_call') resolved.approvals[item.rawItem.callId] = verdict.approval;
    if (verdict === 'skip') resolved.skipped.push(item);
    else if (verdict.kind === 'pending') resolved.pending.push(item);
    else if (verdict.kind === 'granted') {
      state.approve(item);
      resolved.approved.push(item);
    } else {
      state.reject(item, { message: `Tool call denied: ${verdict.reason}` });
      resolved.rejected.push(item);
    }
  });
  return resolved;
}

/** A tool without Signoff's gate runs the model's args as soon as it is approved in the state: claim first. */
async function claimForUngatedTool(signoff: Signoff, verdict: ApprovalVerdict & { readonly kind: 'granted' }, signal?: AbortSignal): Promise<ApprovalVerdict> {
  const { approval } = verdict;
  if (approval.approvedArgsHash !== approval.argsHash) {
    return { kind: 'refused', reason: `the reviewers edited the args of ${approval.tool}, and only a tool wrapped with withSignoff can run edited args`, approval };
  }
  const claim = await claimGrant(signoff, approval, signal);
  return claim.kind === 'claimed' ? verdict : { kind: 'refused', reason: claim.reason, approval };
}
