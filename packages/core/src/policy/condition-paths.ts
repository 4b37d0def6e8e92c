import type { Condition } from '../spec/condition.js';

/**
 * The paths a rule's `when` tests (`args.…` and `context.…`), each once, in file order. `all`,
 * `any` and `not` are walked into: a path tested only under a `not` or in one branch of an `any`
 * still decided the outcome. Reviewers' channels use it to show those args first.
 *
 * @example
 * const rule = parsePolicy(yaml).rules[0]!; // when: { args.amount: { gt: 100 }, any: [{ args.to: { ends_with: '.eth' } }] }
 * conditionPaths(rule.condition); // ['args.amount', 'args.to']
 */
export function conditionPaths(condition: Condition | null): string[] {
  const paths = new Set<string>();
  const visit = (node: Condition): void => {
    if (node.kind === 'test') paths.add(node.path);
    else if (node.kind === 'not') visit(node.condition);
    else if (node.kind === 'aggregate' || node.kind === 'after') {
      // The folded value and the partition keys decided it too.
      if (node.kind === 'aggregate' && node.path !== null) paths.add(node.path);
      for (const path of node.window.per) paths.add(path);
    } else for (const child of node.conditions) visit(child);
  };
  if (condition) visit(condition);
  return [...paths];
}
