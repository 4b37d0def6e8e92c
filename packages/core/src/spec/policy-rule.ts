import type { ApprovalRequirements } from './approval-requirements.js';
import type { Condition } from './condition.js';
import type { DecisionAction } from './decision-action.js';
import type { SourceLocation } from './source-location.js';

/**
 * One rule of a loaded policy, normalized (aliases resolved, defaults filled in).
 *
 * @example
 * const rule: PolicyRule = policy.rules[0]!;
 * console.log(rule.id, rule.tools, rule.action);
 */
export interface PolicyRule {
  /** The rule's `id`, or `rule-<n>` (1-based position) when the file gives none. */
  readonly id: string;
  /** 0-based position in the file; rules are tried in this order and the first match wins. */
  readonly index: number;
  /** Exact tool names and globs this rule applies to. */
  readonly tools: readonly string[];
  /** What the rule decides when it matches. */
  readonly action: DecisionAction;
  /** The `when` conditions, or `null` when the rule has none (it matches every call to its tools). */
  readonly condition: Condition | null;
  /** The `reason` template (may contain `{args.…}` / `{context.…}`), if the file gives one. */
  readonly reason: string | undefined;
  /** Approval requirements, for `escalate` rules. */
  readonly approval: ApprovalRequirements | null;
  /**
   * `shadow` when the rule (or the whole file) says `mode: shadow`: it is evaluated and what it
   * would have decided is recorded, but it never decides a call. Absent for enforced rules.
   */
  readonly mode?: 'shadow';
  /** Where the rule starts in the file. */
  readonly location: SourceLocation;
}
