import { hashArgs, type ApprovalChannel, type ApprovalRequest, type PolicyMatch, type ReviewerDecision } from '@signoff/core';
import type { AuditEventInput } from '../audit/audit-event.js';
import { expireIfOverdue } from './expire-if-overdue.js';
import { isEligible, quorumReached } from './quorum.js';
import type { Reviewer } from './reviewer.js';

/** A reviewer's verdict as it arrives from any channel. */
export interface DecisionInput {
  readonly reviewer: Reviewer;
  readonly verdict: 'approve' | 'deny';
  readonly comment?: string;
  readonly channel: ApprovalChannel;
  /** Args the reviewer edited before approving; re-checked against the policy. */
  readonly editedArgs?: unknown;
}

/** Why a decision was refused; each maps to one HTTP status. */
export type RefusalCode =
  | 'ALREADY_RESOLVED'
  | 'EXPIRED'
  | 'SELF_APPROVAL'
  | 'NOT_AN_APPROVER'
  | 'DUPLICATE_DECISION'
  | 'EDIT_REFUSED';

export type DecisionOutcome =
  | { readonly kind: 'applied'; readonly request: ApprovalRequest; readonly events: AuditEventInput[] }
  | {
      readonly kind: 'refused';
      readonly code: RefusalCode;
      readonly reason: string;
      /** The request to store: changed only when the refusal found it overdue and expired it. */
      readonly request: ApprovalRequest;
      readonly events: AuditEventInput[];
    };

export interface DecisionEnvironment {
  readonly now: Date;
  /** The server's policy, to re-check edited args. */
  readonly evaluate: (tool: string, args: unknown, context?: Readonly<Record<string, unknown>>) => PolicyMatch;
  /** Reviewers who own the requesting agent: approving its requests is self-approval too. */
  readonly requesterOwners: readonly string[];
  /** The reviewer directory, to weigh earlier approvers' roles. */
  readonly reviewerById: (id: string) => Reviewer | undefined;
}

/**
 * The approval rules, in one pure function every channel goes through: deadline, self-approval,
 * roles, one decision per reviewer, edited args re-checked, one deny vetoes, quorum approves.
 * The store runs it inside the request's transaction, so it sees and writes one consistent state.
 *
 * @example
 * const outcome = applyDecision(request, { reviewer: ana, verdict: 'approve', channel: 'api' }, environment);
 * if (outcome.kind === 'refused') return c.json({ error: outcome.code, reason: outcome.reason }, 409);
 */
export function applyDecision(request: ApprovalRequest, input: DecisionInput, environment: DecisionEnvironment): DecisionOutcome {
  const { reviewer, verdict } = input;
  const refuse = (code: RefusalCode, reason: string, current = request, events: AuditEventInput[] = []): DecisionOutcome => ({
    kind: 'refused',
    code,
    reason,
    request: current,
    events: [
      ...events,
      { type: 'decision.refused', requestId: request.id, actor: reviewer.id, channel: input.channel, detail: { verdict, code, reason } },
    ],
  });

  if (request.status !== 'pending') return refuse('ALREADY_RESOLVED', `the request is already ${request.status}`);
  const expiry = expireIfOverdue(request, environment.now);
  if (expiry) return refuse('EXPIRED', `the deadline passed at ${request.expiresAt}`, expiry.request, expiry.events);
  const requesters = [request.requester, request.onBehalfOf, ...environment.requesterOwners];
  if (verdict === 'approve' && requesters.includes(reviewer.id)) {
    return refuse('SELF_APPROVAL', `${reviewer.id} asked for this call (or acts through the agent that did) and cannot approve it`);
  }
  if (!isEligible(reviewer, request.requirements)) {
    return refuse('NOT_AN_APPROVER', `${reviewer.id} holds none of the roles this request needs: ${request.requirements.approverRoles.join(', ')}`);
  }
  if (request.decisions.some((decision) => decision.reviewer === reviewer.id && decision.argsHash === request.approvedArgsHash)) {
    return refuse('DUPLICATE_DECISION', `${reviewer.id} already decided this request; one reviewer counts once, whatever the channel`);
  }

  let approvedArgs = request.approvedArgs;
  let approvedArgsHash = request.approvedArgsHash;
  if (input.editedArgs !== undefined && verdict === 'approve') {
    const match = environment.evaluate(request.tool, input.editedArgs, request.context);
    if (match.action === 'deny') return refuse('EDIT_REFUSED', `the policy denies the edited args: ${match.reasonTemplate}`);
    approvedArgs = input.editedArgs;
    approvedArgsHash = hashArgs(input.editedArgs);
  }

  const at = environment.now.toISOString();
  const decision: ReviewerDecision = {
    reviewer: reviewer.id,
    verdict,
    ...(input.comment ? { comment: input.comment } : {}),
    channel: input.channel,
    at,
    argsHash: approvedArgsHash,
  };
  const decisions = [...request.decisions, decision];
  const recorded: AuditEventInput = {
    type: 'decision.recorded',
    requestId: request.id,
    actor: reviewer.id,
    channel: input.channel,
    detail: { verdict, argsHash: approvedArgsHash, edited: approvedArgsHash !== request.approvedArgsHash, ...(input.comment ? { comment: input.comment } : {}) },
  };
  const pending = { ...request, decisions, approvedArgs, approvedArgsHash };

  if (verdict === 'deny') {
    const resolution = `Denied by ${reviewer.name}${input.comment ? `: ${input.comment}` : ''}`;
    return {
      kind: 'applied',
      request: { ...pending, status: 'denied', granted: false, resolution, resolvedAt: at },
      events: [recorded, { type: 'request.denied', requestId: request.id, actor: reviewer.id, channel: input.channel, detail: { resolution } }],
    };
  }

  // Approvals given for other args (before an edit) no longer count.
  const approvers = decisions
    .filter((entry) => entry.verdict === 'approve' && entry.argsHash === approvedArgsHash)
    .map((entry) => (entry.reviewer === reviewer.id ? reviewer : environment.reviewerById(entry.reviewer)))
    .filter((entry): entry is Reviewer => entry !== undefined);
  if (!quorumReached(approvers, request.requirements)) {
    const missing = request.requirements.requiredApprovals - approvers.length;
    return { kind: 'applied', request: { ...pending, resolution: `Waiting for ${Math.max(missing, 1)} more approval(s)` }, events: [recorded] };
  }
  const resolution = `Approved by ${approvers.map((approver) => approver.name).join(', ')}`;
  return {
    kind: 'applied',
    request: { ...pending, status: 'approved', granted: true, resolution, resolvedAt: at },
    events: [recorded, { type: 'request.approved', requestId: request.id, actor: reviewer.id, channel: input.channel, detail: { resolution, argsHash: approvedArgsHash } }],
  };
}
