/**
 * What a policy says about a tool call.
 * - `allow`: run it.
 * - `deny`: refuse it; the reason is shown to the model.
 * - `escalate`: pause until the required reviewers approve or deny it.
 *
 * @example
 * const action: DecisionAction = 'escalate';
 */
export type DecisionAction = 'allow' | 'deny' | 'escalate';
