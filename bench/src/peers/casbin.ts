import type { Condition, DecisionAction, PolicyRule } from '@signoff/core';
import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import type { Engine, Verdict } from '../engine.js';
import { globToRegex, isGlob } from './glob-to-regex.js';

/**
 * casbin: one policy line per (rule, tool entry), in file order: `p = rule, tool, glob, cond`.
 * The effect `priority(p.eft) || deny` stops at the first line whose matcher holds, and
 * `enforceExSync` returns that line, whose `rule` field (the rule's index) gives our action; no
 * line → the policy default. The condition is a casbin expression run by `eval(p.cond)`.
 */
export function createCasbinEngine(): Engine {
  let enforcer: Enforcer | undefined;
  let rules: readonly PolicyRule[] = [];
  let defaultAction: DecisionAction = 'deny';
  return {
    name: 'casbin',
    async prepare(workload) {
      rules = workload.policy.rules;
      defaultAction = workload.policy.defaultAction;
      enforcer = await newEnforcer(newModelFromString(MODEL));
      enforcer.addFunction('startsWith', (value: unknown, text: string) => typeof value === 'string' && value.startsWith(text));
      enforcer.addFunction('endsWith', (value: unknown, text: string) => typeof value === 'string' && value.endsWith(text));
      const lines = rules.flatMap((rule) =>
        rule.tools.map((tool) => [
          String(rule.index),
          isGlob(tool) ? '' : tool,
          isGlob(tool) ? globToRegex(tool) : '',
          rule.condition ? expression(rule.condition) : 'true',
        ]),
      );
      await enforcer.addPolicies(lines);
    },
    decide({ tool, args }): Verdict {
      if (enforcer === undefined) throw new Error('casbin: prepare() first');
      const [matched, line] = enforcer.enforceExSync(tool, args);
      const rule = matched ? rules[Number(line[0])] : undefined;
      return rule === undefined ? { action: defaultAction, ruleId: null } : { action: rule.action, ruleId: rule.id };
    },
  };
}

const MODEL = `
[request_definition]
r = tool, args

[policy_definition]
p = rule, tool, glob, cond

[policy_effect]
e = priority(p.eft) || deny

[matchers]
m = (r.tool == p.tool || p.glob != "" && regexMatch(r.tool, p.glob)) && eval(p.cond)
`;

function expression(condition: Condition): string {
  switch (condition.kind) {
    case 'all':
    case 'any':
      return `(${condition.conditions.map(expression).join(condition.kind === 'all' ? ' && ' : ' || ')})`;
    case 'not':
      return `!(${expression(condition.condition)})`;
    case 'aggregate':
    case 'after':
      throw new Error('casbin mapping: history conditions are not part of the bench policies');
    case 'test': {
      if (!condition.path.startsWith('args.')) throw new Error(`casbin mapping: only args.* paths (${condition.path})`);
      const value = `r.${condition.path}`;
      const operand = JSON.stringify(condition.operand);
      switch (condition.operator) {
        case 'eq':
          return `${value} == ${operand}`;
        case 'ne':
          return `${value} != ${operand}`;
        case 'gt':
          return `${value} > ${operand}`;
        case 'gte':
          return `${value} >= ${operand}`;
        case 'lt':
          return `${value} < ${operand}`;
        case 'lte':
          return `${value} <= ${operand}`;
        case 'starts_with':
          return `startsWith(${value}, ${operand})`;
        case 'ends_with':
          return `endsWith(${value}, ${operand})`;
        default:
          throw new Error(`casbin mapping: operator '${condition.operator}' not mapped`);
      }
    }
  }
}
