import type { DecisionAction } from './decision-action.js';
import type { PolicyRule } from './policy-rule.js';

/**
 * A validated, normalized policy, as returned by `parsePolicy` / `loadPolicy`. Immutable.
 *
 * @example
 * const policy: Policy = loadPolicy('signoff.policy.yaml');
 * console.log(policy.hash, policy.rules.length, policy.defaultAction);
 */
export interface Policy {
  /** The file it was loaded from, or `<inline>`. */
  readonly file: string;
  /** sha256 (hex) of the canonical JSON of the document: same rules, same hash, whatever the formatting. */
  readonly hash: string;
  /** The action when no rule matches (`default`; `deny` when absent). */
  readonly defaultAction: DecisionAction;
  /** Whether the file states `default` (lint warns when it does not). */
  readonly hasExplicitDefault: boolean;
  /** The rules, in file order. */
  readonly rules: readonly PolicyRule[];
}
