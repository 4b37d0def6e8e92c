import { conditionPaths, type Policy } from '@signoff/core';

/** The condition paths of the rule that decided a request (`[]` for the default, or without a policy). */
export type TestedPathsLookup = (ruleId: string | null | undefined) => readonly string[];

/**
 * Indexes the server policy's rules by id once, so each rendering finds the paths its request's
 * deciding rule tested (`ruleId`) and shows those args first. A rule id the policy no longer has
 * (it changed since the request was made) finds none: the args are then shown in their own order.
 *
 * @example
 * const testedPaths = createTestedPathsLookup(policy);
 * testedPaths(request.ruleId); // ['args.amount', 'args.to']
 */
export function createTestedPathsLookup(policy: Policy | undefined): TestedPathsLookup {
  const byRule = new Map((policy?.rules ?? []).map((rule) => [rule.id, Object.freeze(conditionPaths(rule.condition))]));
  return (ruleId) => (ruleId ? byRule.get(ruleId) : undefined) ?? [];
}
