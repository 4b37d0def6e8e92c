import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { stringify } from 'yaml';
import { PolicyError } from '../errors/policy-error.js';
import { SignoffError } from '../errors/signoff-error.js';
import { createGuard } from '../guard/create-guard.js';
import type { Policy } from '../spec/policy.js';
import { loadPolicy } from './load-policy.js';
import { parsePolicy } from './parse-policy.js';

/**
 * Fuzzing the policy loader (issue #9): whatever text a user or an attacker puts in a policy file,
 * loading it either yields a policy or a PolicyError that points at a line and column — never
 * another exception, never a hang — and a policy that loads gives a guard that never throws.
 */

const SEED = readFileSync(new URL('../../../../examples/policies/seed.yaml', import.meta.url), 'utf8');
/** A hang shows up as a case this slow (generous: a healthy parse takes well under a millisecond). */
const HANG_MS = 2_000;
const RUNS = 300;

type Outcome = { kind: 'policy'; policy: Policy } | { kind: 'error'; error: PolicyError };

/** Parses and checks the contract; returns what came out so callers can go on with a policy. */
function parseChecked(text: string): Outcome {
  const started = performance.now();
  let outcome: Outcome;
  try {
    outcome = { kind: 'policy', policy: parsePolicy(text, { file: 'fuzz.yaml' }) };
  } catch (error) {
    if (!PolicyError.isInstance(error)) throw new Error(`parsePolicy threw a non-PolicyError for ${JSON.stringify(text.slice(0, 300))}`, { cause: error });
    expectWellFormed(error);
    outcome = { kind: 'error', error };
  }
  expect(performance.now() - started).toBeLessThan(HANG_MS);
  return outcome;
}

function expectWellFormed(error: PolicyError): void {
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(Number.isInteger(issue.line) && issue.line > 0, `line of ${JSON.stringify(issue)}`).toBe(true);
    expect(Number.isInteger(issue.column) && issue.column > 0, `column of ${JSON.stringify(issue)}`).toBe(true);
    expect(typeof issue.message === 'string' && issue.message.trim().length > 0, `message of ${JSON.stringify(issue)}`).toBe(true);
    expect(issue.file).toBe('fuzz.yaml');
  }
}

const callTool = fc.oneof(
  fc.constantFrom('payment.send', 'email.send', 'x.get', 'search.a.b', '', '**', '.', 'a..b', '__proto__', 'constructor'),
  fc.string({ maxLength: 30 }),
);
const callArgs = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.anything({ maxDepth: 3 }), fc.constantFrom({ amount: 101, to: 'x@y.z' }, { amount: '1e400' }, { __proto__: { amount: 500 } }));
const callContext = fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), { nil: undefined });

/** A loaded policy must decide every call without throwing. */
function expectGuardNeverThrows(policy: Policy, calls: ReadonlyArray<[string, unknown, Record<string, unknown> | undefined]>): void {
  const guard = createGuard(policy);
  const tools = [...policy.rules.flatMap((rule) => rule.tools), 'nothing.matches'];
  for (const [tool, args, context] of calls) {
    for (const name of [tool, ...tools]) {
      const match = guard.evaluate(name, args, context);
      expect(['allow', 'deny', 'escalate']).toContain(match.action);
      const decision = guard(name, args, context);
      expect(['allow', 'deny', 'escalate']).toContain(decision.action);
      expect(typeof decision.reason).toBe('string');
      if (decision.action === 'escalate') expect(typeof decision.receipt.argsHash).toBe('string');
    }
  }
}
const calls = fc.array(fc.tuple(callTool, callArgs, callContext), { minLength: 1, maxLength: 4 });

/** seed.yaml with random characters or lines inserted, deleted or replaced. */
const mutatedSeed = fc
  .array(
    fc.record({
      kind: fc.constantFrom('insert-char', 'delete-char', 'replace-char', 'insert-line', 'delete-line', 'duplicate-line', 'indent-line'),
      at: fc.nat(),
      text: fc.oneof(
        fc.string({ maxLength: 4 }),
        fc.string({ unit: 'binary', maxLength: 4 }),
        fc.constantFrom(':', '-', ' ', '\t', '\n', '#', '"', "'", '{', '}', '[', ']', '&a', '*a', '!!binary', '!js/function', '\0', '|', '>', '? ', '%YAML 1.1\n', '---\n', '...\n'),
      ),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((mutations) => {
    let text = SEED;
    for (const { kind, at, text: piece } of mutations) {
      if (kind.endsWith('-char')) {
        const index = at % (text.length + 1);
        const removed = kind === 'insert-char' ? 0 : 1;
        text = text.slice(0, index) + (kind === 'delete-char' ? '' : piece) + text.slice(index + removed);
      } else {
        const lines = text.split('\n');
        const index = at % (lines.length + 1);
        if (kind === 'insert-line') lines.splice(index, 0, piece);
        else if (kind === 'delete-line') lines.splice(index, 1);
        else if (kind === 'duplicate-line') lines.splice(index, 0, lines[index] ?? piece);
        else lines[index] = `${' '.repeat(at % 5)}${lines[index] ?? ''}`;
        text = lines.join('\n');
      }
    }
    return text;
  });

/** Documents shaped roughly like a policy, with random values where the schema expects something specific. */
const policyLikeDocument = fc.record(
  {
    version: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 1 })),
    default: fc.oneof(fc.constantFrom('allow', 'deny', 'escalate'), fc.jsonValue({ maxDepth: 1 })),
    rules: fc.oneof(
      fc.array(
        fc.record(
          {
            id: fc.oneof(fc.constantFrom('a', 'b', 'a'), fc.jsonValue({ maxDepth: 1 })),
            tool: fc.oneof(fc.constantFrom('payment.send', '*.get', '**', '{a,b}', '[', 'a{', ''), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
            action: fc.oneof(fc.constantFrom('allow', 'deny', 'escalate'), fc.jsonValue({ maxDepth: 1 })),
            when: fc.oneof(
              fc.dictionary(
                fc.oneof(fc.constantFrom('args.amount', 'args.to', 'context.env', 'any', 'all', 'args', 'args.', '..', 'args.__proto__'), fc.string({ maxLength: 10 })),
                fc.oneof(
                  fc.dictionary(
                    fc.oneof(fc.constantFrom('gt', 'gte', 'lt', 'lte', 'eq', 'ne', 'in', 'not_in', 'not', 'matches', 'endsWith', 'startsWith', 'contains', 'exists'), fc.string({ maxLength: 6 })),
                    fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('(a+)+$', '[', '\\', 1e308, -0, Number.MAX_SAFE_INTEGER + 2)),
                    { maxKeys: 2 },
                  ),
                  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
                  fc.jsonValue({ maxDepth: 1 }),
                ),
                { maxKeys: 3 },
              ),
              fc.jsonValue({ maxDepth: 2 }),
            ),
            reason: fc.oneof(fc.constantFrom('{args.amount} to {args.to}', '{', '{}', '{{args}}', '{args.__proto__}'), fc.jsonValue({ maxDepth: 1 })),
            metadata: fc.oneof(
              fc.record(
                {
                  required_approvals: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.jsonValue({ maxDepth: 1 })),
                  approver_roles: fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
                  approval_timeout_minutes: fc.oneof(fc.double(), fc.constantFrom(1e308, 0, -1, 0.0001), fc.jsonValue({ maxDepth: 1 })),
                  timeout_action: fc.oneof(fc.constantFrom('allow', 'deny', 'escalate'), fc.jsonValue({ maxDepth: 1 })),
                },
                { requiredKeys: [] },
              ),
              fc.jsonValue({ maxDepth: 1 }),
            ),
          },
          { requiredKeys: ['tool', 'action'] },
        ),
        { maxLength: 4 },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  },
  { requiredKeys: [] },
);

/** Renders a value as YAML, falling back to JSON (valid YAML) when yaml cannot stringify it. */
function toYaml(value: unknown): string {
  try {
    return stringify(value) ?? 'null';
  } catch {
    return JSON.stringify(value) ?? 'null';
  }
}

describe('parsePolicy (fuzzed)', () => {
  // yaml emits a process warning for every collection used as a mapping key (`? [a, b]: 1`); random
  // documents hit that hundreds of times, and it is noise here, not a failure.
  let warnings: MockInstance;
  beforeAll(() => {
    warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  });
  afterAll(() => warnings.mockRestore());

  it('returns a policy or throws a located PolicyError for random strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => void parseChecked(text)), { numRuns: RUNS });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => void parseChecked(text)), { numRuns: RUNS });
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', ':', ' ', '-', '\n', '  ', '[', ']', '{', '}', ',', '"', "'", '&x ', '*x', '!', '!!', '|', '>', '#', '?', '%', '@', '`', '\t', '\0', '\r', '\uFEFF', 'rules', 'tool', 'action', 'when', '---', '...'), { maxLength: 80 }),
        (pieces) => void parseChecked(pieces.join('')),
      ),
      { numRuns: RUNS },
    );
  });

  it('returns a policy or throws a located PolicyError for random YAML documents', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => void parseChecked(toYaml(value))), { numRuns: RUNS });
    fc.assert(fc.property(fc.anything({ withMap: true, withSet: true, withDate: true, withBigInt: true, withTypedArray: true, withNullPrototype: true }), (value) => void parseChecked(toYaml(value))), { numRuns: RUNS });
    fc.assert(fc.property(fc.jsonValue(), (value) => void parseChecked(JSON.stringify(value))), { numRuns: RUNS });
  });

  it('never lets a policy-shaped document crash it, and a policy that loads gives a guard that never throws', () => {
    let loaded = 0;
    fc.assert(
      fc.property(policyLikeDocument, calls, fc.boolean(), (document, randomCalls, asJson) => {
        const outcome = parseChecked(asJson ? JSON.stringify(document) : toYaml(document));
        if (outcome.kind === 'policy') {
          loaded += 1;
          expectGuardNeverThrows(outcome.policy, randomCalls);
        }
      }),
      { numRuns: 1_000 },
    );
    expect(loaded).toBeGreaterThan(0);
  });

  it('survives mutations of the seed policy, and what still loads decides without throwing', () => {
    let loaded = 0;
    fc.assert(
      fc.property(mutatedSeed, calls, (text, randomCalls) => {
        const outcome = parseChecked(text);
        if (outcome.kind === 'policy') {
          loaded += 1;
          expectGuardNeverThrows(outcome.policy, randomCalls);
        }
      }),
      { numRuns: 1_000 },
    );
    expect(loaded).toBeGreaterThan(0);
  });

  it('handles hostile YAML: alias bombs, deep nesting, huge numbers, tags, NUL bytes, long lines', () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let level = 1; level <= 9; level++) {
      const previous = String.fromCharCode(96 + level);
      laughs.push(`${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const hostile = [
      laughs.join('\n'),
      `version: 1\nrules: &r [{ tool: "**", action: deny, when: &w { args.a: { in: [*w, *w] } } }]`,
      `rules: &a [*a, *a]`,
      `&a [*a, *a]`,
      `version: 1\nrules:\n  - tool: a\n    action: allow\n    when: { args.x: { in: &l [1, 2] } }\n  - tool: b\n    action: deny\n    when: { args.x: { in: *l } }`,
      '['.repeat(10_000) + ']'.repeat(10_000),
      '{a: '.repeat(5_000) + '1' + '}'.repeat(5_000),
      Array.from({ length: 2_000 }, (_, depth) => `${' '.repeat(depth)}k:`).join('\n'),
      Array.from({ length: 2_000 }, (_, depth) => `${'  '.repeat(depth)}- `).join('\n'),
      `version: 1\nrules:\n  - tool: a\n    action: allow\n    when: ${'{ any: ['.repeat(300)}{}${'] }'.repeat(300)}`,
      `version: ${'9'.repeat(400)}\nrules: []`,
      `version: 1e400\nrules: []`,
      `version: 0x${'f'.repeat(300)}\nrules: []`,
      `version: 1\nrules:\n  - tool: a\n    action: escalate\n    metadata: { required_approvals: ${'9'.repeat(400)}, approval_timeout_minutes: 1e308 }`,
      `version: 1\nrules:\n  - tool: a\n    action: escalate\n    metadata: { required_approvals: 99999999999999999999, approval_timeout_minutes: .inf }`,
      `version: 1\nrules:\n  - tool: a\n    action: allow\n    when: { args.n: { gt: .nan } }`,
      `version: !!binary aGVsbG8=\nrules: []`,
      `version: 1\nrules: !!binary aGVsbG8=`,
      `version: 1\nrules:\n  - tool: !js/function "function(){ throw 1 }"\n    action: allow`,
      `!js/undefined\n`,
      `version: !!python/object:os.system ls\n`,
      `version: !<tag:yaml.org,2002:set> { a, b }\n`,
      `version: 1\nrules: !!omap [ a: 1, a: 2 ]`,
      `version: 1\nrules: !!set { a, b }`,
      `version: 1\nrules: []\n<<: { default: allow }`,
      `<<: *missing`,
      `version: 1\nrules:\n  - <<: &base { tool: a, action: allow }\n  - <<: [*base, *base]\n    id: two`,
      `version: 1\ndefault: allow\nversion: 1`,
      `version: 1\0\nrules: []`,
      `\0\0\0\0`,
      `version: "\\0"\nrules: []`,
      `\uFEFFversion: 1\nrules: []`,
      `%YAML 9.9\n---\nversion: 1`,
      `%TAG ! tag:evil.example,2000:\n---\nversion: !x 1`,
      `--- 1\n--- 2\n`,
      `version: 1\nrules: []\n---\nversion: 1\nrules: []`,
      `x: ${'a'.repeat(1_000_000)}`,
      `version: 1\nrules:\n  - tool: "${'a'.repeat(200_000)}"\n    action: allow`,
      `version: 1\nrules:\n  - tool: "${'*'.repeat(5_000)}b"\n    action: allow`,
      `version: 1\nrules:\n  - tool: "${'{a,'.repeat(500)}b${'}'.repeat(500)}"\n    action: allow`,
      `version: 1\nrules:\n  - tool: a\n    action: allow\n    when: { args.s: { matches: "(a+)+$" } }`,
      `version: 1\nrules:\n  - tool: a\n    action: allow\n    when: { args.s: { matches: "[" } }`,
      `${'#'.repeat(100_000)}\nversion: 1`,
      '\n'.repeat(100_000) + 'version: x',
      `version: 1\nrules:\n${Array.from({ length: 2_000 }, (_, index) => `  - { id: r${index % 1_000}, tool: t${index}, action: allow }`).join('\n')}`,
      `version: 1\nrules: [{tool: a, action: allow, reason: "${'{args.x}'.repeat(10_000)}"}]`,
      `version: 1\nrules:\n  - tool: a\n    action: allow\n    when: { __proto__: { gt: 1 }, constructor: 1, args.__proto__.polluted: 1 }`,
      `__proto__: { default: allow }\nversion: 1\nrules: []`,
      `version: 1\nrules:\n  - tool: a\n    action: allow\n    when:\n      ? [complex, key]\n      : 1`,
      `? |\n  multi\n  line\n: 1`,
      `"\\uD800": 1`,
      `version: 1\nrules: [{ tool: "\\uD800", action: allow }]`,
    ];
    for (const text of hostile) {
      const outcome = parseChecked(text);
      if (outcome.kind === 'policy') expectGuardNeverThrows(outcome.policy, [['a', { x: 1, s: 'a'.repeat(30) + '!', n: 1 }, undefined], ['t5', [], {}]]);
    }
  });

  it('loadPolicy also returns a policy or throws PolicyError (or POLICY_NOT_FOUND for paths)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), mutatedSeed, fc.constantFrom('.', '/', '/dev/null', '/proc', 'x.yaml', '\0.yaml', '../../etc/passwd', 'file:///etc')), (source) => {
        const started = performance.now();
        try {
          loadPolicy(source);
        } catch (error) {
          if (PolicyError.isInstance(error)) for (const issue of error.issues) expect(issue.line > 0 && issue.column > 0 && issue.message.length > 0).toBe(true);
          else if (!(SignoffError.isInstance(error) && error.code === 'POLICY_NOT_FOUND')) {
            throw new Error(`loadPolicy threw ${(error as Error)?.name} for ${JSON.stringify(source.slice(0, 200))}`, { cause: error });
          }
        }
        expect(performance.now() - started).toBeLessThan(HANG_MS);
      }),
      { numRuns: RUNS },
    );
  });
});
