import type { ExecutionGrant, Signoff } from '@signoff/core';
import { failClosed, type ToolCallVerdict } from './get-tool-call-verdict.js';

/** A verdict after the claim: an escalated `allow` carries the grant it was claimed with. Internal. */
export type ClaimedVerdict = Exclude<ToolCallVerdict, { status: 'allow' }> | (Extract<ToolCallVerdict, { status: 'allow' }> & { readonly grant: ExecutionGrant | undefined });

/** How long a finished call waits for its outcome report before returning anyway. */
const REPORT_TIMEOUT_MS = 2_000;

/**
 * Turns an escalated `allow` into the right to run it once: claims the approval on the control
 * plane (atomically `approved → executed`) and answers with the claimed args. A claim that fails
 * (already used, past its use-by time, unreachable, …) is a `deny` with the reason. Allowed calls
 * (local policy `allow`, no approval) pass through unclaimed. Internal: the one claim of a call
 * happens in the wrapped tool's `execute`, or in `toolApproval` for tools that are not wrapped.
 */
export async function claimVerdict(signoff: Signoff, verdict: ToolCallVerdict, signal?: AbortSignal): Promise<ClaimedVerdict> {
  if (verdict.status !== 'allow') return verdict;
  if (!verdict.approval) return { ...verdict, grant: undefined };
  try {
    const grant = await signoff.claimExecution(verdict.approval, signal ? { signal } : {});
    return { status: 'allow', args: grant.args, reason: verdict.reason, approval: grant.approval, grant };
  } catch (error) {
    return { status: 'deny', reason: failClosed(error), approval: verdict.approval };
  }
}

/** Reports how a claimed call ended, best effort: a lost report never fails the call, and waits at most 2 s. Internal. */
export async function reportOutcome(signoff: Signoff, grant: ExecutionGrant, outcome: 'succeeded' | 'failed', detail?: string): Promise<void> {
  await signoff.reportOutcome(grant, outcome, { signal: AbortSignal.timeout(REPORT_TIMEOUT_MS), ...(detail ? { detail } : {}) }).catch(() => undefined);
}
