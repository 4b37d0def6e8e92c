import type { ApprovalChannel } from './approval-channel.js';

/**
 * One reviewer's verdict on an approval request.
 *
 * @example
 * const decision: ReviewerDecision = { reviewer: 'ana', verdict: 'approve', channel: 'slack', at: '2026-11-24T06:00:00.000Z' };
 */
export interface ReviewerDecision {
  /** The reviewer's id in the server's directory. */
  readonly reviewer: string;
  /** `approve` counts toward the quorum; `deny` vetoes the request. */
  readonly verdict: 'approve' | 'deny';
  /** Optional note shown to the agent and other reviewers. */
  readonly comment?: string;
  /** Where the decision came from. */
  readonly channel: ApprovalChannel;
  /** When it was recorded (ISO 8601, UTC). */
  readonly at: string;
  /** sha256 of the args this reviewer approved (the edited args, if they edited them). */
  readonly argsHash: string;
}
