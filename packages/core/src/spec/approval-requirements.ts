/**
 * Who must approve an escalated call, and what happens when nobody answers in time.
 * Taken from the matching rule's `metadata`; the control plane re-derives it from its own policy copy.
 *
 * @example
 * const requirements: ApprovalRequirements = {
 *   requiredApprovals: 2,
 *   approverRoles: ['engineering-lead', 'security'],
 *   timeoutMs: 30 * 60_000,
 *   timeoutAction: 'deny',
 * };
 */
export interface ApprovalRequirements {
  /** Distinct reviewers who must approve (`metadata.required_approvals`, default 1). */
  readonly requiredApprovals: number;
  /** Roles a reviewer must hold to count; empty means any reviewer (`metadata.approver_roles`). */
  readonly approverRoles: readonly string[];
  /** Time allowed for the decision in ms; `undefined` leaves it to the control plane's default. */
  readonly timeoutMs: number | undefined;
  /** What a request that nobody decided in time becomes (`metadata.timeout_action`, default `deny`). */
  readonly timeoutAction: 'deny' | 'allow';
  /**
   * How long a granted request stays usable, in ms from its resolution (`metadata.grant_ttl_minutes`);
   * absent means the control plane's `grant_ttl_minutes` (default 24 h). A grant not claimed by then
   * is refused (`GRANT_EXPIRED`).
   */
  readonly grantTtlMs?: number;
}
