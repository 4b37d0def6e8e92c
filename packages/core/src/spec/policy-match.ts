import type { ApprovalRequirements } from './approval-requirements.js';
import type { DecisionAction } from './decision-action.js';

/**
 * The pure result of evaluating a policy: which rule decided, with no receipt and no rendered reason.
 * Instances are precomputed and frozen, so evaluating allocates nothing.
 *
 * @example
 * const match: PolicyMatch = policy.evaluate('payment.send', { amount: 500 });
 * if (match.action === 'escalate') console.log(match.approval?.requiredApprovals);
 */
export interface PolicyMatch {
  /** The action of the deciding rule, or the policy default. */
  readonly action: DecisionAction;
  /** The deciding rule's id, or `null` when no rule matched and the default applied. */
  readonly ruleId: string | null;
  /**
   * A condition path whose value was missing or of a type its operator cannot judge, when that
   * decided the outcome: the deciding deny/escalate rule matched only because of it (fail-closed),
   * or the default applied after an allow rule was skipped because of it. `null` otherwise.
   */
  readonly unknownPath: string | null;
  /** The reason template of the deciding rule (`{args.x}` not yet rendered), or the default's reason. */
  readonly reasonTemplate: string;
  /** Approval requirements, present when `action` is `escalate`. */
  readonly approval: ApprovalRequirements | null;
  /**
   * Present (`true`) when the deciding rule depends on call history (a `window` aggregate or
   * `after:`) that this evaluator could not read: the action is then `escalate`, so the caller asks
   * the control plane, which keeps the history and decides. Absent otherwise.
   */
  readonly needsHistory?: true;
}
