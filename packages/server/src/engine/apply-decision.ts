import { hashArgs, type ApprovalChannel, type ApprovalRequest, type Decision, type ReviewerDecision } from '@signoff/core';
import type { AuditEventInput } from '../audit/audit-event.js';
import { expireIfOverdue } from './expire-if-overdue.js';
import { approvalsMissing, canApprove, requestQuorumReached } from './quorum.js';
import type { Reviewer } from './reviewer.js';
import { resolveRequirements, sameRequirements, tightenRequirements, type RequirementDefaults } from './tighten-requirements.js';

/** A reviewer's verdict as it arrives from any channel. */
export interface DecisionInput {
  readonly reviewer: Reviewer;
  readonly verdict: 'approve' | 'deny';
  readonly comment?: string;
  readonly channel: ApprovalChannel;
  /** Args the reviewer edited before approving; decided by the policy as if the agent had sent them. */
  readonly editedArgs?: unknown;
  /**
   * sha256 of the args the reviewer was shown (`approvedArgsHash` as they read it). Checked in the
   * same transaction as the decision, so a verdict never lands on args edited in between (`ARGS_CHANGED`).
   */
  readonly argsHash?: string;
}

/** Why a decision was refused; each maps to one HTTP status. */
export type RefusalCode =
  | 'ALREADY_RESOLVED'
  | 'EXPIRED'
  | 'SELF_APPROVAL'
  | 'NOT_AN_APPROVER'
  | 'DUPLICATE_DECISION'
  | 'ARGS_CHANGED'
  | 'EDIT_REFUSED';

/** The HTTP status of each refusal, for the API and the inbox alike. */
export const REFUSAL_STATUS: Readonly<Record<RefusalCode, 403 | 409 | 422>> = {
  ALREADY_RESOLVED: 409,
  EXPIRED: 409,
  DUPLICATE_DECISION: 409,
  ARGS_CHANGED: 409,
  SELF_APPROVAL: 403,
  NOT_AN_APPROVER: 403,
  EDIT_REFUSED: 422,
};

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
  /** The server's policy (its `guard`), to decide edited args as if the agent had sent them. */
  readonly guard: (tool: string, args: unknown, context?: Readonly<Record<string, unknown>>) => Pick<Decision, 'action' | 'ruleId' | 'reason' | 'approval'>;
  /** The server defaults that fill what a rule leaves unset (an edit may move the call under another rule). */
  readonly defaults: RequirementDefaults;
  /** Reviewers who own the requesting agent: approving its requests is self-approval too. */
  readonly requesterOwners: readonly string[];
  /** The reviewer directory, to weigh earlier approvers' roles. */
  readonly reviewerById: (id: string) => Reviewer | undefined;
}

/**
 * The approval rules, in one pure function every channel goes through: deadline, self-approval,
 * roles, one decision per reviewer, the args the reviewer saw are still the ones on the request,
 * edited args decided as if the agent had sent them, one deny vetoes, quorum approves.
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
  if (!canApprove(reviewer, request)) {
    return refuse('NOT_AN_APPROVER', `${reviewer.id} holds none of the roles this request needs: ${request.requirements.approverRoles.join(', ')}`);
  }
  // A deny stands whatever the args became; an approval must be for the args the reviewer saw.
  if (verdict === 'approve' && input.argsHash !== undefined && input.argsHash !== request.approvedArgsHash) {
    return refuse('ARGS_CHANGED', 'the args changed since they were shown (a reviewer edited them); review them and decide again');
  }
  if (request.decisions.some((decision) => decision.reviewer === reviewer.id && decision.argsHash === request.approvedArgsHash)) {
    return refuse('DUPLICATE_DECISION', `${reviewer.id} already decided this request; one reviewer counts once, whatever the channel`);
  }

  const edit = verdict === 'approve' && input.editedArgs !== undefined ? reviewEdit(request, input.editedArgs, environment) : undefined;
  if (edit?.refused) return refuse('EDIT_REFUSED', edit.refused);
  const current = edit?.request ?? request;
  const approvedArgsHash = current.approvedArgsHash;

  const at = environment.now.toISOString();
  const decision: ReviewerDecision = {
    reviewer: reviewer.id,
    verdict,
    ...(input.comment ? { comment: input.comment } : {}),
    channel: input.channel,
    at,
    argsHash: approvedArgsHash,
  };
  const decisions = [...current.decisions, decision];
  const recorded: AuditEventInput = {
    type: 'decision.recorded',
    requestId: request.id,
    actor: reviewer.id,
    channel: input.channel,
    detail: { verdict, argsHash: approvedArgsHash, edited: approvedArgsHash !== request.approvedArgsHash, ...(input.comment ? { comment: input.comment } : {}) },
  };
  const pending = { ...current, decisions };
  const editEvents = edit?.events ?? [];

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
  if (!requestQuorumReached(approvers, pending)) {
    return { kind: 'applied', request: { ...pending, resolution: `Waiting for ${approvalsMissing(approvers, pending)} more approval(s)` }, events: [...editEvents, recorded] };
  }
  const resolution = `Approved by ${approvers.map((approver) => approver.name).join(', ')}`;
  return {
    kind: 'applied',
    request: { ...pending, status: 'approved', granted: true, resolution, resolvedAt: at },
    events: [...editEvents, recorded, { type: 'request.approved', requestId: request.id, actor: reviewer.id, channel: input.channel, detail: { resolution, argsHash: approvedArgsHash } }],
  };
}

/**
 * Decides edited args exactly as if the agent had sent them (design §4): the policy denies them →
 * refused; another rule or other requirements → the request needs the new rule's requirements and
 * still the earlier ones (earlier approvals were for other args and stop counting); allowed or the
 * same requirements → the requirements stand. An edit never lowers what the request needs.
 */
function reviewEdit(
  request: ApprovalRequest,
  editedArgs: unknown,
  environment: DecisionEnvironment,
): { refused: string; request?: undefined; events?: undefined } | { refused?: undefined; request: ApprovalRequest; events: AuditEventInput[] } | undefined {
  const approvedArgsHash = hashArgs(editedArgs);
  if (approvedArgsHash === request.approvedArgsHash) return undefined; // not an edit: the same args
  const decision = environment.guard(request.tool, editedArgs, request.context);
  if (decision.action === 'deny') return { refused: `the policy denies the edited args: ${decision.reason}` };
  const edited = { ...request, approvedArgs: editedArgs, approvedArgsHash };
  if (decision.action !== 'escalate' || !decision.approval) return { request: edited, events: [] };
  const next = resolveRequirements(decision.approval, environment.defaults);
  if (decision.ruleId === request.ruleId && sameRequirements(next, request.requirements)) return { request: edited, events: [] };

  const { requirements, alsoRequired } = tightenRequirements(request, next);
  const deadline = Math.min(Date.parse(request.expiresAt), environment.now.getTime() + requirements.timeoutMs);
  const expiresAt = new Date(deadline).toISOString();
  const event: AuditEventInput = {
    type: 'request.requirements_changed',
    requestId: request.id,
    actor: 'policy',
    channel: 'system',
    detail: { argsHash: approvedArgsHash, fromRuleId: request.ruleId, toRuleId: decision.ruleId, requirements, alsoRequired, expiresAt },
  };
  return { request: { ...edited, ruleId: decision.ruleId, reason: decision.reason, requirements, alsoRequired, expiresAt }, events: [event] };
}
