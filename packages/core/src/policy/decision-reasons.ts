import type { DecisionAction } from '../spec/decision-action.js';

/** The reason wording shared by the compiled evaluator and the explaining interpreter. */

/** The reason a rule gives when the file states none. */
export function defaultRuleReason(action: DecisionAction, ruleId: string): string {
  if (action === 'allow') return `Allowed by rule '${ruleId}'`;
  if (action === 'deny') return `Denied by rule '${ruleId}'`;
  return `Rule '${ruleId}' requires approval`;
}

/** A deny/escalate rule that matched only because `path` could not be judged. */
export function unknownRuleReason(reason: string, action: DecisionAction, path: string): string {
  return `${reason} (${path} could not be judged, so this ${action} rule applies: fail-closed)`;
}

/** No rule matched; `skippedPath` is set when an allow rule was skipped because it could not be judged. */
export function defaultReason(action: DecisionAction, skippedPath: string | null): string {
  return skippedPath === null
    ? `No rule matched; the policy default is ${action}`
    : `No rule matched (${skippedPath} could not be judged, so an allow rule was skipped); the policy default is ${action}`;
}
