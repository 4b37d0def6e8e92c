import type { Condition, DecisionAction } from '@signoff/core';
import { Engine as RulesEngine, type RuleProperties, type TopLevelCondition } from 'json-rules-engine';
import type { Engine, Verdict } from '../engine.js';
import { globToRegex, isGlob } from './glob-to-regex.js';

/**
 * json-rules-engine: one Rule per policy rule, `priority` descending with file order, so the
 * engine evaluates rules in our order. The first rule that succeeds calls `engine.stop()` (the
 * library's way to skip the remaining priority sets), and the first success event is the first
 * match. Facts: `tool` and `args`; `args.amount` is `{ fact: 'args', path: 'amount' }`. `run()` is
 * async only, so every decision is awaited.
 */
export function createJsonRulesEngine(): Engine {
  let engine = new RulesEngine();
  let defaultAction: DecisionAction = 'deny';
  return {
    name: 'json-rules-engine',
    prepare(workload) {
      const rules = workload.policy.rules;
      defaultAction = workload.policy.defaultAction;
      // The default resolver is JSONPath; our paths are plain dotted keys, which a split reads faster.
      engine = new RulesEngine([], { pathResolver: readPath });
      engine.addOperator('matchesGlob', (tool: unknown, source: string) => typeof tool === 'string' && regexOf(source).test(tool));
      engine.addOperator('startsWith', (value: unknown, text: string) => typeof value === 'string' && value.startsWith(text));
      engine.addOperator('endsWith', (value: unknown, text: string) => typeof value === 'string' && value.endsWith(text));
      engine.on('success', () => {
        engine.stop();
      });
      for (const rule of rules) {
        const exact = rule.tools.filter((tool) => !isGlob(tool));
        const tools: unknown[] = rule.tools.filter(isGlob).map((glob) => ({ fact: 'tool', operator: 'matchesGlob', value: globToRegex(glob) }));
        if (exact.length > 0) tools.unshift({ fact: 'tool', operator: 'in', value: exact });
        const all = [{ any: tools }, ...(rule.condition ? [toCondition(rule.condition)] : [])];
        const properties: RuleProperties = {
          name: rule.id,
          priority: rules.length - rule.index,
          conditions: { all } as TopLevelCondition,
          event: { type: rule.action, params: { ruleId: rule.id } },
        };
        engine.addRule(properties);
      }
    },
    async decide({ tool, args }): Promise<Verdict> {
      const { events } = await engine.run({ tool, args });
      const first = events[0];
      if (first === undefined) return { action: defaultAction, ruleId: null };
      return { action: first.type as DecisionAction, ruleId: first.params?.['ruleId'] as string };
    },
  };
}

function toCondition(condition: Condition): unknown {
  switch (condition.kind) {
    case 'all':
      return { all: condition.conditions.map(toCondition) };
    case 'any':
      return { any: condition.conditions.map(toCondition) };
    case 'not':
      return { not: toCondition(condition.condition) };
    case 'test': {
      const [root, ...rest] = condition.path.split('.');
      const operator = OPERATORS[condition.operator as keyof typeof OPERATORS];
      if (operator === undefined) throw new Error(`json-rules-engine mapping: operator '${condition.operator}' not mapped`);
      return { fact: root, path: rest.join('.'), operator, value: condition.operand };
    }
  }
}

const OPERATORS = {
  eq: 'equal',
  ne: 'notEqual',
  gt: 'greaterThan',
  gte: 'greaterThanInclusive',
  lt: 'lessThan',
  lte: 'lessThanInclusive',
  in: 'in',
  not_in: 'notIn',
  starts_with: 'startsWith',
  ends_with: 'endsWith',
} as const;

function readPath(value: object, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split('.')) current = current === null || typeof current !== 'object' ? undefined : (current as Record<string, unknown>)[key];
  return current;
}

const regexes = new Map<string, RegExp>();
function regexOf(source: string): RegExp {
  let regex = regexes.get(source);
  if (regex === undefined) regexes.set(source, (regex = new RegExp(source, 's')));
  return regex;
}
