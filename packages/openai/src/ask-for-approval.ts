import { checkApproval, type ApprovalRequest, type Decision, type Signoff } from '@signoff/core';

/** What the control plane says about one escalated call, already checked against the call. */
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

/**
 * Asks the control plane about an escalated call — creating the request, or replaying it by its
 * idempotency key — and checks the answer with `checkApproval`. This is the adapter's one
 * fail-closed place: any failure to get an answer is a refusal that says why.
 *
 * @example
 * const verdict = await askForApproval(signoff, decision, { idempotencyKey: `${runId}:${callId}`, wait: true });
 * if (verdict.kind === 'granted') await run(verdict.args);
 */
export function askForApproval(signoff: Signoff, decision: Decision, options: AskOptions & { readonly idempotencyKey: string; readonly onBehalfOf?: string }): Promise<ApprovalVerdict> {
  return verdictOf({ tool: decision.tool, args: decision.args }, options, async () => {
    const created = await signoff.requestApproval(decision, {
      idempotencyKey: options.idempotencyKey,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
    });
    return settleOrWait(signoff, created, options);
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
  const check = checkApproval(approval, call);
  return check.granted ? { kind: 'granted', args: check.args, approval } : { kind: 'refused', reason: check.reason, approval };
}
