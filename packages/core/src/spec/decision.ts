import type { ApprovalRequirements } from './approval-requirements.js';
import type { DecisionAction } from './decision-action.js';
import type { Receipt } from './receipt.js';

/**
 * What `guard()` returns for a tool call: the action, why, which rule decided, what an escalation
 * needs, and a receipt. Decisions are data, never exceptions.
 *
 * @example
 * const decision = guard('payment.send', { to: 'acme', amount: 500 });
 * if (decision.action === 'escalate') await signoff.requestApproval(decision, { idempotencyKey: callId });
 */
export interface Decision {
  /** `allow`, `deny` or `escalate`. */
  readonly action: DecisionAction;
  /** Human-readable reason, with `{args.…}` / `{context.…}` placeholders rendered. */
  readonly reason: string;
  /** The deciding rule's id, or `null` when the policy default applied. */
  readonly ruleId: string | null;
  /** The condition path whose unknown value decided the outcome (fail-closed), or `null`. */
  readonly unknownPath: string | null;
  /** The tool that was called. */
  readonly tool: string;
  /** The args that were judged (the same reference the caller passed). */
  readonly args: unknown;
  /** The context that was judged, if any. */
  readonly context: Readonly<Record<string, unknown>> | undefined;
  /** Who must approve and how long they have; present only for `escalate`. */
  readonly approval?: ApprovalRequirements;
  /**
   * `true` when the deciding rule depends on call history the local guard cannot see (`window`
   * aggregates, `after:`): the action is `escalate` and the control plane decides with its history
   * (it may allow, deny or open an approval). Absent otherwise.
   */
  readonly needsHistory?: true;
  /** Which policy decided, when, and (for escalations) the hash the approval is bound to. */
  readonly receipt: Receipt;
}
