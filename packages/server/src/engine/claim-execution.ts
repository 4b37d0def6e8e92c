import type { ApprovalRequest } from '@signoff/core';
import type { AuditEventInput } from '../audit/audit-event.js';
import { expireIfOverdue } from './expire-if-overdue.js';

/** What an agent sends to use a grant, just before it runs the call. */
export interface ClaimInput {
  /** The agent principal claiming (only the requester may). */
  readonly principal: string;
  /** sha256 of the args the agent is about to run: must be the approved args. */
  readonly argsHash: string;
  /** A random id of this claiming attempt; a network retry carries the same one. */
  readonly nonce: string;
}

export interface ClaimEnvironment {
  readonly now: Date;
  /** Hash of the policy the server runs now: a grant made under another policy is void. */
  readonly policyHash: string;
}

/** Why a claim was refused; each maps to one HTTP status. */
export type ClaimRefusalCode = 'NOT_GRANTED' | 'ALREADY_EXECUTED' | 'GRANT_EXPIRED' | 'ARGS_MISMATCH' | 'POLICY_CHANGED';

export type ClaimOutcome =
  | {
      readonly kind: 'claimed';
      readonly request: ApprovalRequest;
      readonly events: AuditEventInput[];
      /** A retry of the claim that already succeeded (same nonce): nothing new was written. */
      readonly retried: boolean;
    }
  | { readonly kind: 'refused'; readonly code: ClaimRefusalCode; readonly reason: string; readonly request: ApprovalRequest; readonly events: AuditEventInput[] };

/**
 * An approval is a single-use grant: bound to the requester, the tool, the approved args and the
 * policy that decided, usable once before `resolvedAt + grantTtlMs`. This moves a granted request
 * to `executed` exactly once; every other claim is refused with a reason and audited. The store runs
 * it inside the request's locked transaction, so two concurrent claims cannot both succeed.
 *
 * @example
 * const outcome = claimExecution(request, { principal: 'payments-agent', argsHash, nonce }, { now: new Date(), policyHash });
 * if (outcome.kind === 'claimed') await run(outcome.request.approvedArgs);
 */
export function claimExecution(request: ApprovalRequest, input: ClaimInput, environment: ClaimEnvironment): ClaimOutcome {
  const expiry = expireIfOverdue(request, environment.now);
  const current = expiry?.request ?? request;
  const earlier = expiry?.events ?? [];
  const refuse = (code: ClaimRefusalCode, reason: string): ClaimOutcome => ({
    kind: 'refused',
    code,
    reason,
    request: current,
    events: [...earlier, { type: 'execution.refused', requestId: request.id, actor: input.principal, channel: 'api', detail: { code, reason, argsHash: input.argsHash } }],
  });

  if (current.status === 'executed' && current.execution) {
    const { execution } = current;
    if (execution.nonce === input.nonce && execution.argsHash === input.argsHash) return { kind: 'claimed', request: current, events: [], retried: true };
    return refuse('ALREADY_EXECUTED', `this approval was already used at ${execution.claimedAt}; an approval runs its call once`);
  }
  if (!current.granted) {
    return refuse('NOT_GRANTED', current.status === 'pending' ? 'the request is still pending' : `the request is ${current.status}: ${current.resolution}`);
  }
  const useBy = Date.parse(current.resolvedAt ?? current.createdAt) + current.requirements.grantTtlMs;
  if (environment.now.getTime() > useBy) {
    return refuse('GRANT_EXPIRED', `the approval had to be used by ${new Date(useBy).toISOString()}; ask again`);
  }
  if (input.argsHash !== current.approvedArgsHash) {
    return refuse('ARGS_MISMATCH', 'these are not the approved args (the reviewers may have edited them): run exactly the approved args');
  }
  if (current.policyHash !== environment.policyHash) {
    return refuse('POLICY_CHANGED', 'the policy changed since this approval was granted; ask again under the current policy');
  }

  const claimedAt = environment.now.toISOString();
  return {
    kind: 'claimed',
    retried: false,
    request: {
      ...current,
      status: 'executed',
      execution: { claimedAt, claimedBy: input.principal, nonce: input.nonce, argsHash: input.argsHash, outcome: undefined, reportedAt: undefined },
    },
    events: [...earlier, { type: 'execution.claimed', requestId: request.id, actor: input.principal, channel: 'api', detail: { argsHash: input.argsHash, nonce: input.nonce } }],
  };
}
