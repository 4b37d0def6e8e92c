import { SignoffError, type ApprovalRequest, type ExecutionGrant, type Signoff } from '@signoff/core';

/** How long a background outcome report may take before it is dropped. */
const REPORT_TIMEOUT_MS = 10_000;

/** Either the tool ran (with the claimed args) or the claim was refused and nothing ran. */
export type ClaimedRun<TOutput> = { readonly kind: 'ran'; readonly output: TOutput } | { readonly kind: 'refused'; readonly reason: string };

/**
 * The one place this package claims a grant: it uses a checked approval for this one execution
 * (`signoff.claimExecution`, atomically `approved → executed` on the control plane) and only then
 * runs the tool, with the claimed args — the approved, possibly reviewer-edited, ones. A claim that
 * fails (already used, past its use-by time, another policy, no answer) runs nothing and says why.
 * Once claimed, the call counts as used: if the process dies before or while the tool runs, the
 * approval does not run it again (at most once, never twice). The outcome is reported in the
 * background; a report that fails changes nothing for the caller.
 *
 * @example
 * const ran = await runClaimed(signoff, approval, (args) => handler(args));
 * if (ran.kind === 'refused') return `Tool call denied: ${ran.reason}`;
 */
export async function runClaimed<TOutput>(signoff: Signoff, approval: ApprovalRequest, run: (args: unknown) => Promise<TOutput>, signal?: AbortSignal): Promise<ClaimedRun<TOutput>> {
  const claim = await claimGrant(signoff, approval, signal);
  if (claim.kind === 'refused') return claim;
  const { grant } = claim;
  const report = (outcome: 'succeeded' | 'failed', detail?: string): void =>
    void signoff.reportOutcome(grant, outcome, { ...(detail ? { detail } : {}), signal: AbortSignal.timeout(REPORT_TIMEOUT_MS) }).catch(() => undefined);
  try {
    const output = await run(grant.args);
    report('succeeded');
    return { kind: 'ran', output };
  } catch (error) {
    report('failed', error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/**
 * Claims a checked approval without running anything: for a tool the SDK runs itself after
 * approval (not wrapped with `withSignoff`), where `runClaimed` cannot be around the execution.
 *
 * @example
 * const claim = await claimGrant(signoff, approval);
 * if (claim.kind === 'claimed') state.approve(item);
 */
export async function claimGrant(signoff: Signoff, approval: ApprovalRequest, signal?: AbortSignal): Promise<{ readonly kind: 'claimed'; readonly grant: ExecutionGrant } | { readonly kind: 'refused'; readonly reason: string }> {
  try {
    return { kind: 'claimed', grant: await signoff.claimExecution(approval, signal ? { signal } : {}) };
  } catch (error) {
    return { kind: 'refused', reason: claimRefusal(approval, error) };
  }
}

/** Why a claim was refused, as the model reads it; "already used" reads like `checkApproval`'s. */
function claimRefusal(approval: ApprovalRequest, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (SignoffError.isInstance(error) && error.code === 'ALREADY_EXECUTED') {
    const at = /already used at ([^;\s]+)/.exec(message)?.[1];
    return `approval ${approval.id} was already used${at ? ` at ${at}` : ''}; an approval runs its call once`;
  }
  return `Not run (fail-closed): ${message}`;
}
