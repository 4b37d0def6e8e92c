import type { ApprovalRequest, ApprovalRequirements } from '@signoff/core';

/** Requirements as a stored request holds them: every default resolved. */
export type ResolvedRequirements = ApprovalRequest['requirements'];

/** The server defaults that fill what a rule leaves unset. */
export interface RequirementDefaults {
  readonly timeoutMs: number;
  readonly grantTtlMs: number;
}

/**
 * Resolves a rule's requirements with the server defaults, as a request stores them.
 *
 * @example
 * resolveRequirements(decision.approval, { timeoutMs: 3_600_000, grantTtlMs: 86_400_000 });
 */
export function resolveRequirements(requirements: ApprovalRequirements, defaults: RequirementDefaults): ResolvedRequirements {
  return {
    requiredApprovals: requirements.requiredApprovals,
    approverRoles: requirements.approverRoles,
    timeoutMs: requirements.timeoutMs ?? defaults.timeoutMs,
    timeoutAction: requirements.timeoutAction,
    grantTtlMs: requirements.grantTtlMs ?? defaults.grantTtlMs,
  };
}

/**
 * What a request needs after an edit moved it under another rule: the new rule's requirements
 * (with the shorter timeout and grant lifetime, and `deny` on timeout if either rule says so), and
 * still everything it needed before (`alsoRequired`), so an edit never lowers what is required
 * whichever rule is stricter.
 *
 * @example
 * const { requirements, alsoRequired } = tightenRequirements(request, next);
 */
export function tightenRequirements(
  before: Pick<ApprovalRequest, 'requirements' | 'alsoRequired'>,
  next: ResolvedRequirements,
): { requirements: ResolvedRequirements; alsoRequired: readonly ApprovalRequirements[] } {
  // Keep each earlier quorum once, unless the new rule's own quorum already implies it.
  const alsoRequired: ApprovalRequirements[] = [];
  for (const earlier of [before.requirements, ...(before.alsoRequired ?? [])]) {
    const impliedByNext = sameRoles(earlier, next) && earlier.requiredApprovals <= next.requiredApprovals;
    if (!impliedByNext && !alsoRequired.some((kept) => sameQuorum(kept, earlier))) alsoRequired.push(earlier);
  }
  return {
    requirements: {
      ...next,
      timeoutMs: Math.min(before.requirements.timeoutMs, next.timeoutMs),
      timeoutAction: before.requirements.timeoutAction === 'allow' && next.timeoutAction === 'allow' ? 'allow' : 'deny',
      grantTtlMs: Math.min(before.requirements.grantTtlMs, next.grantTtlMs),
    },
    alsoRequired,
  };
}

function sameRoles(a: ApprovalRequirements, b: ApprovalRequirements): boolean {
  return a.approverRoles.length === b.approverRoles.length && a.approverRoles.every((role) => b.approverRoles.includes(role));
}

function sameQuorum(a: ApprovalRequirements, b: ApprovalRequirements): boolean {
  return a.requiredApprovals === b.requiredApprovals && sameRoles(a, b);
}

/** Whether two resolved requirements ask for the same thing. */
export function sameRequirements(a: ResolvedRequirements, b: ResolvedRequirements): boolean {
  return (
    a.requiredApprovals === b.requiredApprovals &&
    a.timeoutMs === b.timeoutMs &&
    a.timeoutAction === b.timeoutAction &&
    a.grantTtlMs === b.grantTtlMs &&
    sameRoles(a, b)
  );
}
