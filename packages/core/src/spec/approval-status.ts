/**
 * Where an approval request stands. `pending` waits for reviewers; `denied` and `executed` are
 * final; a granted request (`approved`, or `expired` with `timeoutAction: allow`) is a single-use
 * grant that moves to `executed` once when the agent claims it, just before running the call.
 * - `approved`: the quorum approved (or the policy allowed the call outright).
 * - `denied`: a reviewer denied it (one deny vetoes) or the policy denied it outright.
 * - `expired`: nobody decided in time; `timeoutAction` says whether that grants it (fail-closed: `deny`).
 * - `executed`: the grant was used; it can never be used again (`granted` stays true, for the record).
 *
 * @example
 * const done = (status: ApprovalStatus) => status !== 'pending';
 */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'executed';
