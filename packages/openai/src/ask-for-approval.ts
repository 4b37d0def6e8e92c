import { checkApproval, hashArgs, type ApprovalCheck, type ApprovalRequest, type Decision, type Signoff } from '@signoff/core';

/** What the control plane says about one escalated call, already checked against the call (not yet claimed). */
export type ApprovalVerdict =
  | { readonly kind: 'granted'; /** The args to run: the approved, possibly reviewer-edited, ones. */ readonly args: unknown; readonly approval: ApprovalRequest }
  | { readonly kind: 'refused'; readonly reason: string; readonly approval?: ApprovalRequest }
  | { readonly kind: 'pending'; readonly approval: ApprovalRequest };

export interface AskOptions {
  /** Long-poll until the request resolves (or `timeoutMs`, then refuse); otherwise report `pending`. */
  readonly wait: boolean;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

type CreateOptions = AskOptions & { readonly idempotencyKey: string; readonly onBehalfOf?: string };

/**
 * Asks the control plane about an escalated call — creating the request, or replaying it by its
 * idempotency key — and checks the answer with `checkApproval`. This is the adapter's one
 * fail-closed place: any failure to get an answer is a refusal that says why. A granted verdict is
 * not yet a licence to run: `runClaimed` claims it first.
 *
 * @example
 * const verdict = await askForApproval(signoff, decision, { idempotencyKey: `${runId}:${callId}`, wait: true });
 * if (verdict.kind === 'granted') await runClaimed(signoff, verdict.approval, run);
 */
export function askForApproval(signoff: Signoff, decision: Decision, options: CreateOptions): Promise<ApprovalVerdict> {
  return verdictOf({ tool: decision.tool, args: decision.args }, options, async () => settleOrWait(signoff, await create(signoff, decision, options), options));
}

/**
 * Like `askForApproval`, but first finds the request by its idempotency key (`signoff.findApproval`)
 * and creates one only when there is none — for a tool's own gate, which runs after an approval hook
 * may have replaced the model's args with the reviewers' edited ones.
 *
 * @example
 * const verdict = await findApprovalFor(signoff, decision, { idempotencyKey: callId, wait: false });
 */
export function findApprovalFor(signoff: Signoff, decision: Decision, options: CreateOptions): Promise<ApprovalVerdict> {
  return verdictOf({ tool: decision.tool, args: decision.args }, options, async () => {
    const found = await signoff.findApproval(options.idempotencyKey, options.signal);
    return settleOrWait(signoff, found ?? (await create(signoff, decision, options)), options);
  });
}

/**
 * Reads (or waits for) a request created earlier, e.g. after a restart, and checks it against the call.
 *
 * @example
 * const verdict = await recheckApproval(signoff, record.approvalId, { tool: record.tool, args: record.args }, { wait: false });
 */
export function recheckApproval(signoff: Signoff, approvalId: string, call: { readonly tool: string; readonly args: unknown }, options: AskOptions): Promise<ApprovalVerdict> {
  return verdictOf(call, options, async () => settleOrWait(signoff, await signoff.getApproval(approvalId, options.signal), options));
}

function create(signoff: Signoff, decision: Decision, options: CreateOptions): Promise<ApprovalRequest> {
  return signoff.requestApproval(decision, {
    idempotencyKey: options.idempotencyKey,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
  });
}

async function settleOrWait(signoff: Signoff, approval: ApprovalRequest, options: AskOptions): Promise<ApprovalRequest> {
  if (approval.status !== 'pending' || !options.wait) return approval;
  return signoff.waitForDecision(approval.id, {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

async function verdictOf(call: { readonly tool: string; readonly args: unknown }, options: AskOptions, ask: () => Promise<ApprovalRequest>): Promise<ApprovalVerdict> {
  let approval: ApprovalRequest;
  try {
    approval = await ask();
  } catch (error) {
    return { kind: 'refused', reason: `Not run (fail-closed): ${error instanceof Error ? error.message : String(error)}` };
  }
  if (approval.status === 'pending' && !options.wait) return { kind: 'pending', approval };
  const check = checkCall(approval, call);
  return check.granted ? { kind: 'granted', args: check.args, approval } : { kind: 'refused', reason: check.reason, approval };
}

/** `checkApproval`, also accepting a call whose args already are the reviewers' edited ones. */
function checkCall(approval: ApprovalRequest, call: { readonly tool: string; readonly args: unknown }): ApprovalCheck {
  const edited = approval.approvedArgsHash !== approval.argsHash && hashArgs(call.args) === approval.approvedArgsHash;
  return checkApproval(approval, { tool: call.tool, args: edited ? approval.args : call.args });
}
