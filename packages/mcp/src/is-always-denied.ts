import { explainDecision, type Policy, type PolicyRule } from '@signoff/core';

/**
 * Whether the policy denies every call of `tool`, whatever its args and context: the first rule
 * covering the tool that has no `when` says `deny` (conditional `deny` rules before it only deny
 * more), or no rule covers it and the default is `deny`. Conditional allow/escalate rules make it
 * "not always": such a tool stays listed.
 *
 * @example
 * const visible = tools.filter((tool) => !isAlwaysDenied(signoff.policy, tool.name));
 */
export function isAlwaysDenied(policy: Policy, tool: string): boolean {
  for (const rule of policy.rules) {
    if (!covers(policy, rule, tool)) continue;
    if (rule.condition === null) return rule.action === 'deny';
    if (rule.action !== 'deny') return false;
  }
  return policy.defaultAction === 'deny';
}

/** Whether the rule's `tool` covers this name, asked of the policy's own glob matcher (one rule at a time). */
function covers(policy: Policy, rule: PolicyRule, tool: string): boolean {
  return explainDecision({ ...policy, rules: [rule] }, { tool, args: {} }).rules[0]?.toolMatched ?? false;
}
