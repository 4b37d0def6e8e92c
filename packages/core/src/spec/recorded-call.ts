import type { DecisionAction } from './decision-action.js';

/**
 * One call in the control plane's call history: what was called, when, and what was decided.
 * History conditions (`window` aggregates, `after:`) are judged over these; `signoff policy
 * replay` runs a candidate policy over them.
 *
 * @example
 * const call: RecordedCall = { id: 'call_1', at: Date.now(), tool: 'payment.send', args: { amount: 90 }, action: 'allow', ruleId: 'small' };
 */
export interface RecordedCall {
  /** Unique id (the approval request id, or the id the agent gave a reported call). */
  readonly id: string;
  /** When the control plane recorded it (ms since epoch). */
  readonly at: number;
  readonly tool: string;
  readonly args: unknown;
  readonly context?: Readonly<Record<string, unknown>> | undefined;
  /** What the enforced policy decided. Calls the policy denied never ran and count in no aggregate. */
  readonly action: DecisionAction;
  /** The deciding rule, or `null` for the default. */
  readonly ruleId: string | null;
  /** What the policy with its shadow rules enforced would have decided, when the policy has shadow rules. */
  readonly shadowAction?: DecisionAction | undefined;
  readonly shadowRuleId?: string | null | undefined;
  /** The hash of the policy that decided. */
  readonly policyHash?: string | undefined;
  /** Who made the call (the agent principal). */
  readonly requester?: string | undefined;
}
