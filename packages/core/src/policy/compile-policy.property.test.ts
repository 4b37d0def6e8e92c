import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compilePolicy } from './compile-policy.js';
import { explainDecision } from './explain-decision.js';
import { parsePolicy } from './parse-policy.js';

/**
 * The compiled evaluator (indexes, closures, cached frozen results) must decide exactly as the
 * plain tree-walking interpreter does. Policies are generated as documents, written out as YAML
 * and loaded through parsePolicy, so everything the loader normalizes is covered too.
 */

const TOOL_PATTERNS = ['a.x', 'a.y', 'a.*', 'a.?', '**', 'b.{x,y}', 'b.**', '*.x', 'c', 'a.x.z', 'a+b.*'] as const;
const CALL_TOOLS = ['a.x', 'a.y', 'a.z', 'a.xy', 'a', 'a.x.z', 'b.x', 'b.y', 'b.z', 'b.x.z', 'c', 'd', 'a+b.q', 'aab.q', ''] as const;
const PATHS = ['args.n', 'args.s', 'args.list', 'args.obj.k', 'context.env'] as const;

const scalar = fc.oneof(
  fc.constantFrom('a', 'ab', 'abc', 'b', '5', '10', ' 7 ', '2.5', '-1', '', 'x@acme.com', 'prod', 'dev'),
  fc.constantFrom(-1, 0, 1, 2.5, 5, 7, 10),
  fc.boolean(),
  fc.constant(null),
);
const smallNumber = fc.constantFrom(-1, 0, 1, 2.5, 5, 7, 10);
const jsonOperand = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.record({ k: scalar }) },
);

/** Each operator with its spellings and an operand of the type it needs. */
const OPERAND: Record<string, { spellings: readonly string[]; operand: fc.Arbitrary<unknown> }> = {
  eq: { spellings: ['eq'], operand: jsonOperand },
  ne: { spellings: ['ne'], operand: jsonOperand },
  gt: { spellings: ['gt'], operand: smallNumber },
  gte: { spellings: ['gte'], operand: smallNumber },
  lt: { spellings: ['lt'], operand: smallNumber },
  lte: { spellings: ['lte'], operand: smallNumber },
  in: { spellings: ['in'], operand: fc.array(scalar, { maxLength: 3 }) },
  not_in: { spellings: ['not_in', 'notIn'], operand: fc.array(scalar, { maxLength: 3 }) },
  contains: { spellings: ['contains'], operand: scalar },
  starts_with: { spellings: ['starts_with', 'startsWith'], operand: fc.constantFrom('', 'a', 'ab', '1', 'x@') },
  ends_with: { spellings: ['ends_with', 'endsWith'], operand: fc.constantFrom('', 'b', 'c', '0', '@acme.com') },
  matches: { spellings: ['matches'], operand: fc.constantFrom('^a', 'b$', '^[0-9]+$', 'a.c', '^\\s*\\d', 'x|y', '(a|aa)+$', '(?i)^A', '^.$') },
  exists: { spellings: ['exists'], operand: fc.boolean() },
};
const OPERATORS = Object.keys(OPERAND);

function operatorObject(depth: number): fc.Arbitrary<Record<string, unknown>> {
  const names = depth > 0 ? [...OPERATORS, 'not'] : OPERATORS;
  return fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 2 }).chain((chosen) =>
    fc
      .tuple(
        ...chosen.map((name) => {
          if (name === 'not') return fc.tuple(fc.constant('not'), operatorObject(depth - 1));
          const { spellings, operand } = OPERAND[name] as (typeof OPERAND)[string];
          return fc.tuple(fc.constantFrom(...spellings), operand);
        }),
      )
      .map((entries) => Object.fromEntries(entries)),
  );
}

const condition = fc.oneof({ weight: 1, arbitrary: scalar }, { weight: 4, arbitrary: operatorObject(2) });

function whenMap(depth: number): fc.Arbitrary<Record<string, unknown>> {
  const keys: readonly string[] = depth > 0 ? [...PATHS, 'any', 'all'] : PATHS;
  return fc.uniqueArray(fc.constantFrom(...keys), { minLength: depth > 0 ? 1 : 0, maxLength: 3 }).chain((chosen) =>
    fc
      .tuple(
        ...chosen.map((key) =>
          key === 'any' || key === 'all' ? fc.array(whenMap(depth - 1), { minLength: 1, maxLength: 3 }) : (condition as fc.Arbitrary<unknown>),
        ),
      )
      .map((values) => Object.fromEntries(chosen.map((key, index) => [key, values[index]]))),
  );
}

const reason = fc.constantFrom(
  undefined,
  'Plain reason',
  'n={args.n}',
  '{context.env} / {args.obj.k} / {args.obj}',
  'literal {braces} {args.s} {args}',
  '{args.list.0} of {args.list}',
);

const metadata = fc.record(
  {
    required_approvals: fc.integer({ min: 1, max: 3 }),
    approver_roles: fc.uniqueArray(fc.constantFrom('finance', 'security', 'lead'), { minLength: 1, maxLength: 2 }),
    approval_timeout_minutes: fc.constantFrom(1, 30, 0.5),
    timeout_action: fc.constantFrom('deny', 'allow'),
  },
  { requiredKeys: [] },
);

const rule = fc
  .record({
    explicitId: fc.boolean(),
    tool: fc.oneof(fc.constantFrom(...TOOL_PATTERNS), fc.uniqueArray(fc.constantFrom(...TOOL_PATTERNS), { minLength: 1, maxLength: 3 })),
    action: fc.constantFrom('allow', 'deny', 'escalate'),
    when: fc.option(whenMap(2), { nil: undefined, freq: 4 }),
    reason,
    metadata: fc.option(metadata, { nil: undefined }),
  })
  .map(({ explicitId, action, metadata: meta, ...rest }) => ({ explicitId, action, ...rest, metadata: action === 'escalate' ? meta : undefined }));

const policyDocument = fc
  .record({
    default: fc.constantFrom(undefined, 'allow', 'deny', 'escalate'),
    rules: fc.array(rule, { minLength: 0, maxLength: 6 }),
  })
  .map(({ default: defaultAction, rules }) =>
    dropUndefined({
      version: 1,
      default: defaultAction,
      rules: rules.map(({ explicitId, ...fields }, index) => dropUndefined({ id: explicitId ? `id-${index}` : undefined, ...fields })),
    }),
  );

const value = fc.oneof(
  { weight: 5, arbitrary: scalar },
  { weight: 2, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.record({ k: scalar }, { requiredKeys: [] }) },
);
const argsObject = fc.record({ n: value, s: value, list: value, obj: fc.oneof(value, fc.record({ k: value }, { requiredKeys: [] })) }, { requiredKeys: [] });
const args = fc.oneof({ weight: 9, arbitrary: argsObject }, { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 'text', [1], undefined) });
const context = fc.option(fc.record({ env: value }, { requiredKeys: [] }), { nil: undefined });
const call = fc.record({ tool: fc.constantFrom(...CALL_TOOLS), args, context });

interface View {
  readonly action: string;
  readonly ruleId: string | null;
  readonly unknownPath: string | null;
  readonly reason?: string;
}

function outcome({ action, ruleId, unknownPath }: View): View {
  return { action, ruleId, unknownPath };
}

function sameView(left: View, right: View): boolean {
  return left.action === right.action && left.ruleId === right.ruleId && left.unknownPath === right.unknownPath && left.reason === right.reason;
}

function dropUndefined<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, member]) => member !== undefined)) as T;
}

describe('compilePolicy agrees with the reference interpreter', () => {
  it('on action, ruleId, unknownPath and rendered reason for random policies and calls', () => {
    fc.assert(
      fc.property(policyDocument, fc.array(call, { minLength: 1, maxLength: 16 }), (document, calls) => {
        const policy = parsePolicy(stringify(document));
        const compiled = compilePolicy(policy);
        for (const { tool, args: callArgs, context: callContext } of calls) {
          const match = compiled.evaluate(tool, callArgs, callContext);
          const explanation = explainDecision(policy, { tool, args: callArgs, context: callContext });
          const compiledView = { ...outcome(match), reason: compiled.renderReason(match, callArgs, callContext) };
          const referenceView = { ...outcome(explanation), reason: explanation.reason };
          // Plain comparison first: expect() on every call would dominate the run time.
          if (!sameView(compiledView, referenceView)) expect(compiledView).toEqual(referenceView);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('returns the identical frozen result when a call is repeated, with approval requirements only for escalations', () => {
    fc.assert(
      fc.property(policyDocument, call, (document, { tool, args: callArgs, context: callContext }) => {
        const compiled = compilePolicy(parsePolicy(stringify(document)));
        const first = compiled.evaluate(tool, callArgs, callContext);
        expect(Object.isFrozen(first)).toBe(true);
        expect(compiled.evaluate(tool, structuredClone(callArgs), callContext)).toBe(first);
        expect(first.approval === null).toBe(first.action !== 'escalate');
      }),
      { numRuns: 200 },
    );
  });
});

describe('policy hash', () => {
  it('does not depend on how the document is written (YAML, JSON, key order)', () => {
    fc.assert(
      fc.property(policyDocument, (document) => {
        const reordered = Object.fromEntries(
          Object.entries({ ...document, rules: (document.rules as Record<string, unknown>[]).map((one) => Object.fromEntries(Object.entries(one).reverse())) }).reverse(),
        );
        const hash = parsePolicy(stringify(document)).hash;
        expect(parsePolicy(JSON.stringify(reordered)).hash).toBe(hash);
        expect(parsePolicy(stringify(document, { collectionStyle: 'flow' })).hash).toBe(hash);
      }),
      { numRuns: 150 },
    );
  });
});
