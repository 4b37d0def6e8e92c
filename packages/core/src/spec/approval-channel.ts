/**
 * How a reviewer's decision reached the control plane; recorded with the decision and in the audit log.
 *
 * @example
 * const channel: ApprovalChannel = 'slack';
 */
export type ApprovalChannel = 'api' | 'cli' | 'slack' | 'email' | 'inbox';
