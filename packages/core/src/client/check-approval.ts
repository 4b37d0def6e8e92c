import { hashArgs } from '../hash-args.js';
import type { ApprovalRequest } from '../spec/approval-request.js';

/** What an approval allows for one specific call. */
export type ApprovalCheck =
  | { readonly granted: true; /** The args to run: the approved (possibly edited) ones. */ readonly args: unknown }
  | { readonly granted: false; readonly reason: string };

/**
 * Decides whether a control-plane approval really covers this call before anything runs: it must
 * be granted and not yet used, for the same tool, bound to the hash of these exact args, with
 * approved args that match their own hash. Then claim it (`signoff.claimExecution`): only the
 * claim makes the grant yours, once. A resume value, message part or idempotency replay that points at some
 * other approval is refused here — adapters call this, never trust `granted` alone.
 *
 * @example
 * const check = checkApproval(await signoff.getApproval(id), { tool: call.name, args: call.args });
 * if (check.granted) await tool.invoke(check.args);
 */
export function checkApproval(approval: ApprovalRequest, call: { readonly tool: string; readonly args: unknown }): ApprovalCheck {
  if (approval.tool !== call.tool) {
    return { granted: false, reason: `approval ${approval.id} is for tool ${approval.tool}, not ${call.tool}` };
  }
  if (approval.argsHash !== hashArgs(call.args)) {
    return { granted: false, reason: `approval ${approval.id} was requested for different args than this call's` };
  }
  if (approval.status === 'pending') return { granted: false, reason: `approval ${approval.id} is still pending` };
  if (approval.status === 'executed') {
    return { granted: false, reason: `approval ${approval.id} was already used at ${approval.execution?.claimedAt ?? 'an earlier time'}; an approval runs its call once` };
  }
  if (!approval.granted) return { granted: false, reason: approval.resolution };
  if (hashArgs(approval.approvedArgs) !== approval.approvedArgsHash) {
    return { granted: false, reason: `approval ${approval.id} carries approved args that do not match their hash` };
  }
  return { granted: true, args: approval.approvedArgs };
}
