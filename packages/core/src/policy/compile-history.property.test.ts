import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compilePolicy } from './compile-policy.js';
import { explainDecision } from './explain-decision.js';
import { parsePolicy } from './parse-policy.js';

/**
 * History conditions and shadow rules: the compiled evaluator must decide exactly as the reference
 * interpreter, both on the agent side (no facts: a rule that needs history asks the control plane)
 * and on the control plane (facts given, some unavailable), and the shadow view must be the policy
 * with its shadow rules enforced.
 */

const TOOLS = ['a', 'b', 'c'] as const;
const numberOperand = fc.constantFrom(0, 1, 2, 3, 10);
const comparisons = fc
  .uniqueArray(fc.constantFrom('eq', 'ne', 'gt', 'gte', 'lt', 'lte'), { minLength: 1, maxLength: 2 })
  .chain((names) => fc.tuple(...names.map((name) => fc.tuple(fc.constant(name), numberOperand))).map((entries) => Object.fromEntries(entries)));
const singleCall = fc.oneof(
  fc.record({ 'args.n': fc.record({ gt: numberOperand }) }),
  fc.record({ 'context.env': fc.constantFrom('prod', 'dev') }),
  fc.record({ 'args.s': fc.record({ exists: fc.boolean() }) }),
);
const aggregate = fc
  .record({ key: fc.constantFrom('count', 'sum(args.n)', 'min(args.n)', 'max(args.n)'), comparisons, per: fc.constantFrom([], ['context.env']) })
  .map(({ key, comparisons: tests, per }) => ({ window: { within: '1h', ...(per.length ? { per } : {}) }, [key]: tests }));
const after = fc.record({ after: fc.record({ tool: fc.constantFrom(...TOOLS), within: fc.constantFrom('10m', '1d') }) });

function when(depth: number): fc.Arbitrary<Record<string, unknown>> {
  const leaf = fc.oneof(singleCall, aggregate, after, fc.tuple(singleCall, aggregate).map(([left, right]) => ({ ...left, ...right })));
  if (depth === 0) return leaf;
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.record({ any: fc.array(when(depth - 1), { minLength: 1, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ all: fc.array(when(depth - 1), { minLength: 1, maxLength: 3 }) }) },
  );
}

const rule = fc.record(
  {
    tool: fc.constantFrom(...TOOLS, '*'),
    action: fc.constantFrom('allow', 'deny', 'escalate'),
    when: when(2),
    mode: fc.constantFrom('shadow', 'enforce'),
  },
  { requiredKeys: ['tool', 'action'] },
);
const document = fc.record({ default: fc.constantFrom('allow', 'deny', 'escalate'), rules: fc.array(rule, { minLength: 1, maxLength: 5 }) });
const call = fc.record({
  tool: fc.constantFrom(...TOOLS),
  args: fc.record({ n: fc.oneof(fc.constantFrom(0, 2, 5, '3', 'x')), s: fc.constantFrom('y', null) }, { requiredKeys: [] }),
  context: fc.record({ env: fc.constantFrom('prod', 'dev') }, { requiredKeys: [] }),
});
const fact = fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1, 2, 3, 10, 11), fc.boolean());

describe('history conditions: compiled evaluator agrees with the reference interpreter', () => {
  it('with and without facts, enforced and shadow views', () => {
    fc.assert(
      fc.property(document, fc.array(call, { minLength: 1, maxLength: 8 }), fc.array(fact, { minLength: 40, maxLength: 40 }), (written, calls, allFacts) => {
        const policy = parsePolicy(stringify(written));
        const compiled = compilePolicy(policy);
        const facts = allFacts.slice(0, compiled.historyConditions.length);
        const enforcedEverything = { ...policy, rules: policy.rules.map(({ mode: _mode, ...one }) => one) };
        for (const one of calls) {
          const withoutFacts = compiled.evaluate(one.tool, one.args, one.context);
          const reference = explainDecision(policy, one);
          expect({ ...pick(withoutFacts), needsHistory: withoutFacts.needsHistory === true }).toEqual({ ...pick(reference), needsHistory: reference.needsHistory === true });

          const withFacts = compiled.evaluateWithHistory(one.tool, one.args, one.context, facts);
          expect(withFacts.needsHistory).toBeUndefined();
          expect(pick(withFacts)).toEqual(pick(explainDecision(policy, one, { facts })));

          const shadow = compiled.shadow ?? compiled;
          expect(pick(shadow.evaluateWithHistory(one.tool, one.args, one.context, facts))).toEqual(pick(explainDecision(enforcedEverything, one, { facts })));
        }
      }),
      { numRuns: 400 },
    );
  });
});

function pick(match: { action: string; ruleId: string | null; unknownPath: string | null }) {
  return { action: match.action, ruleId: match.ruleId, unknownPath: match.unknownPath };
}
