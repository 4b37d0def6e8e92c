/**
 * Where an approval request stands. `pending` is the only state that changes; the three others are
 * terminal and reached exactly once.
 * - `approved`: the quorum approved (or the policy allowed the call outright).
 * - `denied`: a reviewer denied it (one deny vetoes) or the policy denied it outright.
 * - `expired`: nobody decided in time; `timeoutAction` says whether that grants it (fail-closed: `deny`).
 *
 * @example
 * const done = (status: ApprovalStatus) => status !== 'pending';
 */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';
