import type { ApprovalRequest, ApprovalRequirements } from '@signoff/core';
import type { Reviewer } from './reviewer.js';

/** Whether a reviewer holds one of the roles the request needs (any reviewer, when none are listed). */
export function isEligible(reviewer: Reviewer, requirements: ApprovalRequirements): boolean {
  return requirements.approverRoles.length === 0 || reviewer.roles.some((role) => requirements.approverRoles.includes(role));
}

/** Every set of requirements a request must meet: its rule's, and those of rules it was under before an edit. */
function requirementSets(request: Pick<ApprovalRequest, 'requirements' | 'alsoRequired'>): readonly ApprovalRequirements[] {
  return [request.requirements, ...(request.alsoRequired ?? [])];
}

/**
 * Whether a reviewer's approval can count toward a request: they hold a role one of its requirement sets asks for.
 *
 * @example
 * if (!canApprove(reviewer, request)) return refuse('NOT_AN_APPROVER', …);
 */
export function canApprove(reviewer: Reviewer, request: Pick<ApprovalRequest, 'requirements' | 'alsoRequired'>): boolean {
  return requirementSets(request).some((requirements) => isEligible(reviewer, requirements));
}

/**
 * Whether these approvers meet every requirement set of the request (see {@link quorumReached}).
 *
 * @example
 * if (requestQuorumReached(approvers, request)) status = 'approved';
 */
export function requestQuorumReached(approvers: readonly Reviewer[], request: Pick<ApprovalRequest, 'requirements' | 'alsoRequired'>): boolean {
  return requirementSets(request).every((requirements) => quorumReached(approvers, requirements));
}

/** How many more approvals the request needs at least (1 while any set is unmet). */
export function approvalsMissing(approvers: readonly Reviewer[], request: Pick<ApprovalRequest, 'requirements' | 'alsoRequired'>): number {
  const missing = requirementSets(request).map((requirements) => requirements.requiredApprovals - approvers.filter((approver) => isEligible(approver, requirements)).length);
  return Math.max(1, ...missing);
}

/**
 * Whether these approvers (distinct, eligible) satisfy the quorum: `requiredApprovals` of them, and,
 * when `requiredApprovals >= approverRoles.length`, every listed role represented by a different
 * person — a reviewer holding two roles still counts once (found by bipartite matching).
 *
 * @example
 * quorumReached([lead, security], { requiredApprovals: 2, approverRoles: ['lead', 'security'], … }); // true
 */
export function quorumReached(approvers: readonly Reviewer[], requirements: ApprovalRequirements): boolean {
  const distinct = [...new Map(approvers.filter((reviewer) => isEligible(reviewer, requirements)).map((r) => [r.id, r])).values()];
  if (distinct.length < requirements.requiredApprovals) return false;
  const roles = requirements.approverRoles;
  if (roles.length === 0 || requirements.requiredApprovals < roles.length) return true;
  return coversEveryRole(distinct, roles);
}

/** Each role gets its own reviewer (Kuhn's augmenting paths; sizes are tiny). */
function coversEveryRole(reviewers: readonly Reviewer[], roles: readonly string[]): boolean {
  const roleOf: Array<string | undefined> = [];
  const assign = (role: string, visited: Set<number>): boolean => {
    for (const [index, reviewer] of reviewers.entries()) {
      if (visited.has(index) || !reviewer.roles.includes(role)) continue;
      visited.add(index);
      const current = roleOf[index];
      if (current === undefined || assign(current, visited)) {
        roleOf[index] = role;
        return true;
      }
    }
    return false;
  };
  return roles.every((role) => assign(role, new Set()));
}
