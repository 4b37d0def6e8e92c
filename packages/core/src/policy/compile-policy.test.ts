import { describe, expect, it } from 'vitest';
import type { PolicyMatch } from '../spec/policy-match.js';
import { compilePolicy } from './compile-policy.js';
import { explainDecision } from './explain-decision.js';
import { parsePolicy } from './parse-policy.js';

function doc(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

const MISSING = Symbol('missing');
type Outcome = 'true' | 'false' | 'unknown';

/**
 * How `args.v: <condition>` judges a value, seen from outside: a deny rule before `default: allow`
 * decides when the condition is true or unknown (fail-closed, naming the path), and not when false.
 * The reference interpreter must agree.
 */
function judge(condition: string, value: unknown): Outcome {
  const policy = parsePolicy(doc('default: allow', 'rules:', '  - id: r', '    tool: t', '    action: deny', '    when:', `      args.v: ${condition}`));
  const args = value === MISSING ? {} : { v: value };
  const match = compilePolicy(policy).evaluate('t', args);
  const explanation = explainDecision(policy, { tool: 't', args });
  expect(pick(match)).toEqual(pick(explanation));
  if (match.ruleId === null) {
    expect(match).toMatchObject({ action: 'allow', unknownPath: null });
    return 'false';
  }
  expect(match.action).toBe('deny');
  if (match.unknownPath === null) return 'true';
  expect(match.unknownPath).toBe('args.v');
  return 'unknown';
}

function pick(result: { action: string; ruleId: string | null; unknownPath: string | null }): object {
  return { action: result.action, ruleId: result.ruleId, unknownPath: result.unknownPath };
}

function show(value: unknown): string {
  if (value === MISSING) return '(missing)';
  if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) return Object.is(value, -0) ? '-0' : String(value);
  return JSON.stringify(value);
}

const operatorCases: ReadonlyArray<readonly [string, unknown, Outcome]> = [
  // eq: a number operand compares numerically (numeric strings count); otherwise strict / deep
  ['{ eq: 5 }', 5, 'true'],
  ['{ eq: 5 }', '5', 'true'],
  ['{ eq: 5 }', ' 5.0 ', 'true'],
  ['{ eq: 5 }', '5e0', 'true'],
  ['{ eq: 5 }', '5x', 'false'],
  ['{ eq: 5 }', 6, 'false'],
  ['{ eq: 5 }', true, 'false'],
  ['{ eq: 5 }', null, 'false'],
  ['{ eq: 5 }', [5], 'false'],
  ['{ eq: 5 }', MISSING, 'unknown'],
  ['{ eq: "5" }', 5, 'false'],
  ['{ eq: "5" }', '5', 'true'],
  ['{ eq: "5" }', '5.0', 'false'],
  ['{ eq: true }', true, 'true'],
  ['{ eq: true }', 'true', 'false'],
  ['{ eq: null }', null, 'true'],
  ['{ eq: null }', MISSING, 'unknown'],
  ['{ eq: { a: [1, { b: 2 }] } }', { a: [1, { b: 2 }] }, 'true'],
  ['{ eq: { a: [1, { b: 2 }], c: x } }', { c: 'x', a: [1, { b: 2 }] }, 'true'],
  ['{ eq: { a: [1, { b: 2 }] } }', { a: [1, { b: 3 }] }, 'false'],
  ['{ eq: { a: [1, { b: 2 }] } }', { a: [1, { b: 2 }], c: 1 }, 'false'],
  ['{ eq: { a: 1 } }', { a: '1' }, 'false'],
  ['{ eq: { a: 1 } }', 'a', 'false'],
  ['{ eq: [1, 2] }', [1, 2], 'true'],
  ['{ eq: [1, 2] }', [2, 1], 'false'],
  ['{ eq: [] }', {}, 'false'],
  // a literal means eq
  ['5', '5', 'true'],
  ['5', 4, 'false'],
  ['"abc"', 'abc', 'true'],
  ['abc', 'abd', 'false'],
  ['false', false, 'true'],
  ['null', null, 'true'],
  ['null', MISSING, 'unknown'],
  // ne
  ['{ ne: 5 }', 6, 'true'],
  ['{ ne: 5 }', '5', 'false'],
  ['{ ne: 5 }', 'abc', 'true'],
  ['{ ne: x }', 'y', 'true'],
  ['{ ne: x }', 'x', 'false'],
  ['{ ne: { a: 1 } }', { a: 1 }, 'false'],
  ['{ ne: 5 }', MISSING, 'unknown'],
  // gt / gte / lt / lte: numbers and numeric strings; anything else cannot be judged
  ['{ gt: 100 }', 101, 'true'],
  ['{ gt: 100 }', 100, 'false'],
  ['{ gt: 100 }', '101', 'true'],
  ['{ gt: 100 }', ' 150 ', 'true'],
  ['{ gt: 100 }', '1e3', 'true'],
  ['{ gt: 100 }', '-500', 'false'],
  ['{ gt: 100 }', '100.0001', 'true'],
  ['{ gt: 100 }', 'abc', 'unknown'],
  ['{ gt: 100 }', '', 'unknown'],
  ['{ gt: 100 }', '0x200', 'unknown'],
  ['{ gt: 100 }', 'Infinity', 'unknown'],
  ['{ gt: 100 }', '1e400', 'unknown'],
  ['{ gt: 100 }', '100 dollars', 'unknown'],
  ['{ gt: 100 }', true, 'unknown'],
  ['{ gt: 100 }', false, 'unknown'],
  ['{ gt: 100 }', null, 'unknown'],
  ['{ gt: 100 }', [200], 'unknown'],
  ['{ gt: 100 }', { amount: 200 }, 'unknown'],
  ['{ gt: 100 }', MISSING, 'unknown'],
  ['{ gt: 100 }', Number.POSITIVE_INFINITY, 'unknown'],
  ['{ lt: 0 }', Number.NEGATIVE_INFINITY, 'unknown'],
  ['{ gt: 100 }', Number.NaN, 'unknown'],
  ['{ lte: 0 }', -0, 'true'],
  ['{ gte: 100 }', 100, 'true'],
  ['{ gte: 100 }', '99.9', 'false'],
  ['{ lt: 0 }', -1, 'true'],
  ['{ lt: 0 }', '-0.5', 'true'],
  ['{ lt: 0 }', 0, 'false'],
  ['{ lt: 0 }', 'none', 'unknown'],
  ['{ lte: 2.5 }', 2.5, 'true'],
  ['{ lte: 2.5 }', '2.51', 'false'],
  ['{ lte: 2.5 }', true, 'unknown'],
  ['{ gt: 1, lt: 5 }', 3, 'true'],
  ['{ gt: 1, lt: 5 }', 7, 'false'],
  ['{ gt: 1, lt: 5 }', 'x', 'unknown'],
  // in / not_in (and notIn): scalars only; a number candidate accepts a numeric string
  ['{ in: [a, b] }', 'a', 'true'],
  ['{ in: [a, b] }', 'c', 'false'],
  ['{ in: [1, 2] }', 2, 'true'],
  ['{ in: [1, 2] }', '2', 'true'],
  ['{ in: ["1"] }', 1, 'false'],
  ['{ in: [a, 1, true, null] }', true, 'true'],
  ['{ in: [a, 1, true, null] }', null, 'true'],
  ['{ in: [a, 1, true, null] }', 1, 'true'],
  ['{ in: [a, 1, true, null] }', '1.0', 'true'],
  ['{ in: [a, 1, true, null] }', 'b', 'false'],
  ['{ in: [a, 1, true, null] }', false, 'false'],
  ['{ in: [a, b] }', ['a'], 'unknown'],
  ['{ in: [a, b] }', { a: 1 }, 'unknown'],
  ['{ in: [a, b] }', MISSING, 'unknown'],
  ['{ in: [] }', 'a', 'false'],
  ['{ not_in: [a, b] }', 'c', 'true'],
  ['{ not_in: [a, b] }', 'a', 'false'],
  ['{ not_in: [a, b] }', ['c'], 'unknown'],
  ['{ not_in: [1] }', '1', 'false'],
  ['{ notIn: [a] }', 'b', 'true'],
  ['{ notIn: [a] }', 'a', 'false'],
  // contains: substring of a string, member of a list
  ['{ contains: "@" }', 'a@b', 'true'],
  ['{ contains: "@" }', 'ab', 'false'],
  ['{ contains: x }', ['x', 'y'], 'true'],
  ['{ contains: x }', ['y'], 'false'],
  ['{ contains: x }', [], 'false'],
  ['{ contains: 2 }', [1, '2'], 'true'],
  ['{ contains: null }', [null], 'true'],
  ['{ contains: 2 }', '123', 'unknown'],
  ['{ contains: x }', 5, 'unknown'],
  ['{ contains: x }', { x: 1 }, 'unknown'],
  ['{ contains: x }', null, 'unknown'],
  ['{ contains: x }', MISSING, 'unknown'],
  // starts_with / ends_with and their camelCase spellings
  ['{ starts_with: "rm " }', 'rm -rf /', 'true'],
  ['{ starts_with: "rm " }', 'ls', 'false'],
  ['{ starts_with: "rm " }', 5, 'unknown'],
  ['{ starts_with: "rm " }', ['rm '], 'unknown'],
  ['{ startsWith: "rm " }', 'rm -rf /', 'true'],
  ['{ startsWith: "rm " }', 'echo rm ', 'false'],
  ['{ ends_with: "@acme.com" }', 'x@acme.com', 'true'],
  ['{ ends_with: "@acme.com" }', 'x@acme.com.evil.io', 'false'],
  ['{ ends_with: "@acme.com" }', null, 'unknown'],
  ['{ endsWith: "@acme.com" }', 'x@acme.com', 'true'],
  ['{ endsWith: "@acme.com" }', 'x@gmail.com', 'false'],
  // matches: an unanchored search on strings only
  ['{ matches: "^[a-z]+$" }', 'abc', 'true'],
  ['{ matches: "^[a-z]+$" }', 'ab1', 'false'],
  ['{ matches: "a.c" }', 'xxabcxx', 'true'],
  ['{ matches: "^\\\\d+$" }', '123', 'true'],
  ['{ matches: "^\\\\d+$" }', 123, 'unknown'],
  ['{ matches: "x" }', ['x'], 'unknown'],
  // matches is RE2 syntax; what users write for JS RegExp means the same
  ["{ matches: '^acct_[0-9a-f]{8,12}$' }", 'acct_12ab34cd', 'true'],
  ["{ matches: '^acct_[0-9a-f]{8,12}$' }", 'acct_12ab34cdXYZ', 'false'],
  ["{ matches: '^[^\\s@]+@[^\\s@]+\\.[a-z]{2,}$' }", 'ana@acme.com', 'true'],
  ["{ matches: '^[^\\s@]+@[^\\s@]+\\.[a-z]{2,}$' }", 'ana@acme', 'false'],
  ["{ matches: '\\bsecret\\b' }", 'my secret key', 'true'],
  ["{ matches: '\\bsecret\\b' }", 'secretive', 'false'],
  ["{ matches: '^\\w+$' }", 'é', 'false'],
  ['{ matches: "a.*?b" }', 'xaxxbx', 'true'],
  ["{ matches: '(?i)^drop table' }", 'DROP TABLE users', 'true'],
  ['{ matches: "(a+)+$" }', 'aaa', 'true'],
  ['{ matches: "(a+)+$" }', 'aaa!', 'false'],
  // … and where RE2 differs from JS RegExp (README: "matches")
  ["{ matches: '^\\s$' }", '\u00a0', 'false'],
  ["{ matches: '^.$' }", '\r', 'true'],
  ["{ matches: '^.$' }", '\n', 'false'],
  ["{ matches: '^.$' }", '😀', 'true'],
  ["{ matches: '^\\p{Greek}+$' }", 'αβγ', 'true'],
  // exists judges presence itself: never unknown, null counts as absent
  ['{ exists: true }', 0, 'true'],
  ['{ exists: true }', '', 'true'],
  ['{ exists: true }', false, 'true'],
  ['{ exists: true }', [], 'true'],
  ['{ exists: true }', null, 'false'],
  ['{ exists: true }', MISSING, 'false'],
  ['{ exists: false }', MISSING, 'true'],
  ['{ exists: false }', null, 'true'],
  ['{ exists: false }', 1, 'false'],
  // not: flips true and false, keeps unknown
  ['{ not: { eq: 5 } }', 6, 'true'],
  ['{ not: { eq: 5 } }', '5', 'false'],
  ['{ not: { eq: 5 } }', MISSING, 'unknown'],
  ['{ not: { gt: 1 } }', 'abc', 'unknown'],
  ['{ not: { exists: true } }', MISSING, 'true'],
  ['{ not: { not: { gt: 1 } } }', 2, 'true'],
  ['{ not: { ends_with: "@acme.com" } }', 'x@gmail.com', 'true'],
  ['{ not: { ends_with: "@acme.com" } }', 'x@acme.com', 'false'],
  ['{ not: { ends_with: "@acme.com" } }', 5, 'unknown'],
  ['{ not: { in: [a] }, exists: true }', 'b', 'true'],
];

describe('operators', () => {
  it.each(operatorCases.map(([condition, value, expected]) => ({ condition, value, expected, shown: show(value) })))(
    '$condition on $shown → $expected',
    ({ condition, value, expected }) => {
      expect(judge(condition, value)).toBe(expected);
    },
  );

  it('reads a number comparison on context from the context, never from args of the same name', () => {
    const compiled = compilePolicy(parsePolicy(doc('default: allow', 'rules:', '  - tool: t', '    action: deny', '    when: { context.risk: { gte: 5 } }')));
    expect(compiled.evaluate('t', { risk: 9 }, { risk: 1 }).action).toBe('allow');
    expect(compiled.evaluate('t', { risk: 1 }, { risk: 9 }).action).toBe('deny');
    expect(compiled.evaluate('t', { risk: 9 }).unknownPath).toBe('context.risk');
  });

  it('gives the same answer for a matches rule on repeated calls (no regex state carried over)', () => {
    const compiled = compilePolicy(parsePolicy(doc('default: allow', 'rules:', '  - tool: t', '    action: deny', '    when: { args.v: { matches: "b" } }')));
    const actions = ['abc', 'abc', 'xbx', 'abc', 'zzz'].map((v) => compiled.evaluate('t', { v }).action);
    expect(actions).toEqual(['deny', 'deny', 'deny', 'deny', 'allow']);
  });
});

describe('nested paths, any and all', () => {
  const compiled = compilePolicy(
    parsePolicy(
      doc(
        'default: allow',
        'rules:',
        '  - id: r',
        '    tool: t',
        '    action: deny',
        '    when:',
        '      args.payment.amount: { gt: 100 }',
        '      any:',
        '        - context.env: prod',
        '        - all:',
        '            - args.payment.to: { not: { ends_with: "@acme.com" } }',
        '            - context.user: { in: [bob, eve] }',
      ),
    ),
  );
  const prod = { env: 'prod' };
  const devEve = { env: 'dev', user: 'eve' };
  const devAnn = { env: 'dev', user: 'ann' };
  const external = { amount: 500, to: 'x@gmail.com' };
  const internal = { amount: 500, to: 'x@acme.com' };

  it.each([
    ['all hold in prod', external, prod, 'r', null],
    ['amount too small', { ...external, amount: 50 }, prod, null, null],
    ['dev, external, listed user', external, devEve, 'r', null],
    ['dev, internal', internal, devEve, null, null],
    ['dev, external, unlisted user', external, devAnn, null, null],
    ['amount missing', { to: 'x@gmail.com' }, prod, 'r', 'args.payment.amount'],
    ['payment is not an object', 'x', prod, 'r', 'args.payment.amount'],
    ['no context: env unknown, inner all true', external, undefined, 'r', 'context.env'],
    ['no context, internal: unknown env or false inner all is unknown', internal, undefined, 'r', 'context.env'],
    ['no context, small amount: a false conjunct beats the unknown env', { ...internal, amount: 50 }, undefined, null, null],
    ['dev, user missing, external', external, { env: 'dev' }, 'r', 'context.user'],
    ['prod wins over a missing recipient (true beats unknown in any)', { amount: 500 }, prod, 'r', null],
  ])('%s', (_name, payment, context, ruleId, unknownPath) => {
    const match = compiled.evaluate('t', { payment }, context);
    expect({ ruleId: match.ruleId, unknownPath: match.unknownPath }).toEqual({ ruleId, unknownPath });
  });
});

describe('tool globs', () => {
  function matches(glob: string, tool: string): boolean {
    const policy = parsePolicy(doc('default: allow', 'rules:', `  - tool: ${JSON.stringify(glob)}`, '    action: deny'));
    const compiled = compilePolicy(policy).evaluate(tool, {}).action === 'deny';
    expect(explainDecision(policy, { tool, args: {} }).action === 'deny').toBe(compiled);
    return compiled;
  }

  it.each([
    ['payment.*', 'payment.send', true],
    ['payment.*', 'payment.', true],
    ['payment.*', 'payment.send.now', false],
    ['payment.*', 'payment', false],
    ['payment.*', 'paymentx.send', false],
    ['*.get', 'invoice.get', true],
    ['*.get', 'a.b.get', false],
    ['payment.**', 'payment.send.now', true],
    ['payment.**', 'payment.send', true],
    ['payment.**', 'payment', false],
    ['**', 'anything.at.all', true],
    ['**', 'x', true],
    ['**.get', 'a.b.get', true],
    ['**.get', 'get', false],
    ['file.?et', 'file.get', true],
    ['file.?et', 'file.set', true],
    ['file.?et', 'file.et', false],
    ['file.?et', 'file.gget', false],
    ['a?b', 'a.b', false],
    ['{payment,invoice}.send', 'payment.send', true],
    ['{payment,invoice}.send', 'invoice.send', true],
    ['{payment,invoice}.send', 'refund.send', false],
    ['{payment,invoice}.send', 'payment,invoice.send', false],
    ['db.{read,list*}', 'db.listAll', true],
    ['db.{read,list*}', 'db.read', true],
    ['db.{read,list*}', 'db.readAll', false],
    ['a+b.c', 'a+b.c', true],
    ['a+b.c', 'aab.c', false],
    ['a+b.*', 'a+b.x', true],
    ['a+b.*', 'aab.x', false],
    ['a+b.*', 'ab.x', false],
    ['a.*', 'aXb', false],
    ['(x|y).*', '(x|y).z', true],
    ['(x|y).*', 'x.z', false],
    ['[ab].*', '[ab].z', true],
    ['[ab].*', 'a.z', false],
    ['^a$.*', '^a$.z', true],
    ['a\\d.*', 'a\\d.z', true],
    ['a\\d.*', 'a1.z', false],
    ['payment.send', 'payment.send', true],
    ['payment.send', 'payment.sendx', false],
    ['payment.send', 'PAYMENT.SEND', false],
  ])('%s covers %s: %s', (glob, tool, expected) => {
    expect(matches(glob, tool)).toBe(expected);
  });

  it('lets a tool list mix exact names and globs', () => {
    const compiled = compilePolicy(parsePolicy(doc('default: allow', 'rules:', '  - tool: [payment.send, "invoice.*", "db.{read,write}"]', '    action: deny')));
    const decide = (tool: string): string => compiled.evaluate(tool, {}).action;
    expect(['payment.send', 'invoice.void', 'db.write', 'payment.refund', 'invoice.a.b', 'db.drop'].map(decide)).toEqual([
      'deny',
      'deny',
      'deny',
      'allow',
      'allow',
      'allow',
    ]);
  });
});

describe('first match wins, across exact and glob rules', () => {
  const compiled = compilePolicy(
    parsePolicy(
      doc(
        'rules:',
        '  - id: small-payments',
        '    tool: "payment.*"',
        '    action: allow',
        '    when: { args.amount: { lt: 10 } }',
        '  - id: send',
        '    tool: payment.send',
        '    action: escalate',
        '  - id: refunds',
        '    tool: [payment.refund, "refund.**"]',
        '    action: allow',
        '  - id: everything-else',
        '    tool: "**"',
        '    action: deny',
        '  - id: unreachable',
        '    tool: payment.send',
        '    action: allow',
      ),
    ),
  );

  it.each([
    ['a glob rule before an exact rule wins', 'payment.send', { amount: 5 }, 'small-payments'],
    ['the exact rule after it applies when the glob rule does not', 'payment.send', { amount: 50 }, 'send'],
    ['an exact entry in a list', 'payment.refund', { amount: 50 }, 'refunds'],
    ['a glob in a list', 'refund.card.partial', {}, 'refunds'],
    ['a catch-all glob', 'shell.exec', {}, 'everything-else'],
    ['a glob rule before the catch-all', 'payment.void', { amount: 1 }, 'small-payments'],
    ['no rule after a catch-all is reached', 'payment.void', { amount: 100 }, 'everything-else'],
  ])('%s', (_name, tool, args, ruleId) => {
    expect(compiled.evaluate(tool, args).ruleId).toBe(ruleId);
  });

  it('stays correct for many distinct tool names (its bounded name cache is recycled)', () => {
    for (let round = 0; round < 2; round += 1) {
      for (let index = 0; index < 3_000; index += 1) {
        expect(compiled.evaluate(`payment.tool${index}`, { amount: index % 20 }).ruleId).toBe(index % 20 < 10 ? 'small-payments' : 'everything-else');
        expect(compiled.evaluate(`other${index}.x`, {}).ruleId).toBe('everything-else');
      }
    }
    expect(compiled.evaluate('payment.send', { amount: 50 }).ruleId).toBe('send');
  });
});

describe('the default', () => {
  const noMatch = (text: string): PolicyMatch => compilePolicy(parsePolicy(text)).evaluate('unnamed.tool', { x: 1 });

  it('is deny when absent', () => {
    expect(noMatch('rules: [{ tool: a, action: allow }]')).toEqual({
      action: 'deny',
      ruleId: null,
      unknownPath: null,
      reasonTemplate: 'No rule matched; the policy default is deny',
      approval: null,
    });
  });

  it('can be allow', () => {
    expect(noMatch('default: allow\nrules: []')).toMatchObject({ action: 'allow', ruleId: null, approval: null });
  });

  it('escalates with the default approval requirements', () => {
    expect(noMatch('default: escalate\nrules: []')).toEqual({
      action: 'escalate',
      ruleId: null,
      unknownPath: null,
      reasonTemplate: 'No rule matched; the policy default is escalate',
      approval: { requiredApprovals: 1, approverRoles: [], timeoutMs: undefined, timeoutAction: 'deny' },
    });
  });
});

describe('three-valued conditions fail closed', () => {
  const policyText = (action: string, extra: string[] = []): string =>
    doc('default: allow', 'rules:', '  - id: payments', '    tool: payment.send', `    action: ${action}`, '    when:', '      args.amount: { gt: 100 }', ...extra);

  it.each([
    ['escalate', 'a missing value', {}],
    ['escalate', 'a value of the wrong type', { amount: 'a lot' }],
    ['deny', 'a missing value', {}],
    ['deny', 'a value of the wrong type', { amount: [500] }],
  ])('a %s rule matches on %s and names the path', (action, _case, args) => {
    const match = compilePolicy(parsePolicy(policyText(action))).evaluate('payment.send', args);
    expect(match).toMatchObject({ action, ruleId: 'payments', unknownPath: 'args.amount' });
    const reason = action === 'deny' ? "Denied by rule 'payments'" : "Rule 'payments' requires approval";
    expect(match.reasonTemplate).toBe(`${reason} (args.amount could not be judged, so this ${action} rule applies: fail-closed)`);
  });

  it('keeps the rule’s own reason and approval requirements when it matches through an unknown value', () => {
    const compiled = compilePolicy(
      parsePolicy(policyText('escalate', ['    reason: "Big payment of {args.amount}"', '    metadata: { required_approvals: 2 }'])),
    );
    const match = compiled.evaluate('payment.send', { to: 'x' });
    expect(match.approval).toMatchObject({ requiredApprovals: 2 });
    expect(compiled.renderReason(match, { to: 'x' }, undefined)).toBe(
      'Big payment of (missing) (args.amount could not be judged, so this escalate rule applies: fail-closed)',
    );
  });

  it('skips an allow rule it cannot judge; the default then names the skipped path', () => {
    const compiled = compilePolicy(parsePolicy(doc('rules:', '  - tool: payment.send', '    action: allow', '    when: { args.amount: { lt: 100 } }')));
    const match = compiled.evaluate('payment.send', { amount: 'fifty' });
    expect(match).toEqual({
      action: 'deny',
      ruleId: null,
      unknownPath: 'args.amount',
      reasonTemplate: 'No rule matched (args.amount could not be judged, so an allow rule was skipped); the policy default is deny',
      approval: null,
    });
  });

  it('lets a later rule decide after a skipped allow rule', () => {
    const compiled = compilePolicy(
      parsePolicy(
        doc('rules:', '  - tool: payment.send', '    action: allow', '    when: { args.amount: { lt: 100 } }', '  - id: review', '    tool: "**"', '    action: escalate'),
      ),
    );
    expect(compiled.evaluate('payment.send', {})).toMatchObject({ action: 'escalate', ruleId: 'review' });
  });

  it('reports the first skipped path when several allow rules are skipped', () => {
    const compiled = compilePolicy(
      parsePolicy(
        doc(
          'rules:',
          '  - { tool: t, action: allow, when: { args.a: { gt: 1 } } }',
          '  - { tool: t, action: allow, when: { args.b: { gt: 1 } } }',
        ),
      ),
    );
    expect(compiled.evaluate('t', {}).unknownPath).toBe('args.a');
    expect(compiled.evaluate('t', { a: 0 }).unknownPath).toBe('args.b');
  });

  it.each([
    ['not keeps unknown', 'args.a: { not: { gt: 1 } }', {}, 'args.a'],
    ['any: unknown and false is unknown', 'any: [{ args.a: { gt: 1 } }, { args.b: 1 }]', { b: 2 }, 'args.a'],
    ['any: true beats unknown', 'any: [{ args.a: { gt: 1 } }, { args.b: 1 }]', { b: 1 }, null],
    ['all: unknown and true is unknown', 'all: [{ args.a: 1 }, { args.b: { gt: 1 } }]', { a: 1 }, 'args.b'],
    ['the first unknown path in file order is named', 'args.a: { gt: 1 }\n      args.b: { gt: 1 }', {}, 'args.a'],
    ['a context path', 'context.env: prod', {}, 'context.env'],
  ])('%s', (_name, when, args, unknownPath) => {
    const match = compilePolicy(parsePolicy(doc('default: allow', 'rules:', '  - id: r', '    tool: t', '    action: deny', '    when:', `      ${when}`))).evaluate('t', args);
    expect(match).toMatchObject({ action: 'deny', ruleId: 'r', unknownPath });
  });

  it('lets a false conjunct beat an unknown one: the deny rule does not apply', () => {
    const compiled = compilePolicy(
      parsePolicy(doc('default: allow', 'rules:', '  - tool: t', '    action: deny', '    when:', '      args.a: { gt: 1 }', '      args.b: x')),
    );
    expect(compiled.evaluate('t', { b: 'y' })).toMatchObject({ action: 'allow', ruleId: null, unknownPath: null });
    expect(compiled.evaluate('t', { b: 'x' })).toMatchObject({ action: 'deny', unknownPath: 'args.a' });
  });

  it.each([[null], ['text'], [42], [[1, 2]], [undefined]])('judges nothing when args is %j', (args) => {
    const compiled = compilePolicy(parsePolicy(policyText('deny')));
    expect(compiled.evaluate('payment.send', args)).toMatchObject({ action: 'deny', unknownPath: 'args.amount' });
  });
});

describe('reason templates', () => {
  function render(reason: string, args: unknown, context?: unknown): string {
    const policy = parsePolicy(doc('rules:', '  - tool: t', '    action: allow', `    reason: ${JSON.stringify(reason)}`));
    const compiled = compilePolicy(policy);
    const rendered = compiled.renderReason(compiled.evaluate('t', args, context), args, context);
    expect(explainDecision(policy, { tool: 't', args, context: context as Record<string, unknown> | undefined }).reason).toBe(rendered);
    return rendered;
  }

  it.each([
    ['a number', 'Pay ${args.amount}', { amount: 500 }, undefined, 'Pay $500'],
    ['a string as-is', 'To {args.to}', { to: 'acme "corp"' }, undefined, 'To acme "corp"'],
    ['context', 'Asked by {context.user}', {}, { user: 'alice' }, 'Asked by alice'],
    ['a nested path', 'To {args.payee.bank.iban}', { payee: { bank: { iban: 'DE00' } } }, undefined, 'To DE00'],
    ['an array element', 'First {args.items.0}', { items: ['x', 'y'] }, undefined, 'First x'],
    ['a missing value', 'To {args.to}', {}, undefined, 'To (missing)'],
    ['a missing context', 'By {context.user}', {}, undefined, 'By (missing)'],
    ['a path through a non-object', 'To {args.to.name}', { to: 'x' }, undefined, 'To (missing)'],
    ['null', 'Note {args.note}', { note: null }, undefined, 'Note null'],
    ['a boolean', 'Dry run {args.dry}', { dry: false }, undefined, 'Dry run false'],
    ['an object as JSON', 'Body {args.body}', { body: { a: 1, b: [true] } }, undefined, 'Body {"a":1,"b":[true]}'],
    ['an array as JSON', 'Ids {args.ids}', { ids: [1, 2] }, undefined, 'Ids [1,2]'],
    ['the whole args', 'Call {args}', { a: 1 }, undefined, 'Call {"a":1}'],
    ['several placeholders', '{args.a}+{args.a}={args.b}', { a: 1, b: 2 }, undefined, '1+1=2'],
    ['literal braces', 'Use {braces} and {} and {amount} and { args.a }', { a: 1, amount: 2 }, undefined, 'Use {braces} and {} and {amount} and { args.a }'],
    ['double braces', '{{args.a}}', { a: 1 }, undefined, '{1}'],
    ['a value that looks like a placeholder is not expanded again', 'Got {args.a}', { a: '{args.b}', b: 'secret' }, undefined, 'Got {args.b}'],
    ['a long value is cut at 200 characters', 'Text {args.t}', { t: 'x'.repeat(300) }, undefined, `Text ${'x'.repeat(200)}…`],
    ['no placeholders', 'Plain reason', { a: 1 }, undefined, 'Plain reason'],
  ])('renders %s', (_name, reason, args, context, expected) => {
    expect(render(reason, args, context)).toBe(expected);
  });

  it('renders the default rule reason when a rule has none', () => {
    const compiled = compilePolicy(parsePolicy('rules: [{ id: reads, tool: "*.get", action: allow }]'));
    expect(compiled.renderReason(compiled.evaluate('invoice.get', {}), {}, undefined)).toBe("Allowed by rule 'reads'");
  });

  it('keeps a match plain data, and renders a copy of a match as it renders the match', () => {
    const compiled = compilePolicy(parsePolicy('rules: [{ id: pay, tool: payment.send, action: escalate, reason: "Pay {args.amount}" }]'));
    const match = compiled.evaluate('payment.send', { amount: 5 });
    const copy = { ...match };
    expect(Object.keys(match)).toEqual(['action', 'ruleId', 'unknownPath', 'reasonTemplate', 'approval']);
    expect(JSON.parse(JSON.stringify(match))).toEqual(JSON.parse(JSON.stringify(copy)));
    expect(compiled.renderReason(copy, { amount: 7 }, undefined)).toBe('Pay 7');
    expect(compiled.renderReason(match, { amount: 7 }, undefined)).toBe('Pay 7');
  });
});

describe('prototype safety', () => {
  function decide(condition: string, args: unknown): PolicyMatch {
    return compilePolicy(parsePolicy(doc('default: allow', 'rules:', '  - tool: t', '    action: deny', `    when: { ${condition} }`))).evaluate('t', args, {});
  }

  it.each([
    'args.__proto__: { exists: true }',
    'args.constructor: { exists: true }',
    'args.toString: { exists: true }',
    'args.hasOwnProperty: { exists: true }',
    'args.nested.__proto__: { exists: true }',
    'args.nested.constructor: { exists: true }',
    'context.constructor: { exists: true }',
  ])('%s is false for plain data without such a member', (condition) => {
    expect(decide(condition, { nested: {} }).action).toBe('allow');
  });

  it.each([
    ['args.constructor.name: Object', 'args.constructor.name'],
    ['args.__proto__.polluted: { eq: 1 }', 'args.__proto__.polluted'],
  ])('%s cannot reach the prototype: the value is missing', (condition, path) => {
    expect(decide(condition, {})).toMatchObject({ action: 'deny', unknownPath: path });
  });

  it('reads __proto__ and constructor when they are own data (e.g. from JSON.parse)', () => {
    const args = JSON.parse('{"__proto__": {"x": 1}, "constructor": "c"}') as unknown;
    expect(decide('args.__proto__.x: 1', args)).toMatchObject({ action: 'deny', unknownPath: null });
    expect(decide('args.constructor: c', args)).toMatchObject({ action: 'deny', unknownPath: null });
  });

  it('never renders prototype members in a reason', () => {
    const compiled = compilePolicy(parsePolicy('rules: [{ tool: t, action: allow, reason: "{args.__proto__} {args.constructor} {args.a.toString}" }]'));
    const args = { a: {} };
    expect(compiled.renderReason(compiled.evaluate('t', args), args, undefined)).toBe('(missing) (missing) (missing)');
  });

  // Arrays inherit from Array.prototype, not Object.prototype: `map`, `push`, … are not data either.
  it.each([
    ['args.list.map: { exists: true }', { list: [1] }],
    ['args.list.length.toFixed: { exists: true }', { list: [1] }],
    ['args.push: { exists: true }', [1]],
  ])('%s is false: members inherited from Array.prototype are not data', (condition, args) => {
    expect(decide(condition, args).action).toBe('allow');
  });

  it('never renders members inherited from Array.prototype in a reason', () => {
    const compiled = compilePolicy(parsePolicy('rules: [{ tool: t, action: allow, reason: "{args.list.map}" }]'));
    expect(compiled.renderReason(compiled.evaluate('t', { list: [] }), { list: [] }, undefined)).toBe('(missing)');
  });
});

describe('results', () => {
  const compiled = compilePolicy(
    parsePolicy(
      doc(
        'default: escalate',
        'rules:',
        '  - id: big',
        '    tool: payment.send',
        '    action: escalate',
        '    when: { args.amount: { gt: 100 } }',
        '    metadata: { required_approvals: 2, approver_roles: [finance] }',
        '  - id: small',
        '    tool: "payment.*"',
        '    action: allow',
        '    when: { args.amount: { lte: 100 } }',
      ),
    ),
  );

  const calls: ReadonlyArray<readonly [string, string, unknown]> = [
    ['a rule match', 'payment.send', { amount: 500 }],
    ['a match through an unknown value', 'payment.send', {}],
    ['a glob rule match', 'payment.refund', { amount: 5 }],
    ['the default', 'shell.exec', {}],
    ['the default after a skipped allow rule', 'payment.refund', { amount: 'x' }],
  ];

  it.each(calls)('are frozen: %s', (_name, tool, args) => {
    const match = compiled.evaluate(tool, args);
    expect(Object.isFrozen(match)).toBe(true);
    expect(match.approval === null || Object.isFrozen(match.approval)).toBe(true);
    expect(() => {
      (match as { action: string }).action = 'allow';
    }).toThrow(TypeError);
  });

  it.each(calls)('are the identical object on every call: %s', (_name, tool, args) => {
    const first = compiled.evaluate(tool, args);
    for (let index = 0; index < 5; index += 1) expect(compiled.evaluate(tool, structuredClone(args))).toBe(first);
  });

  it('are shared by calls with different args that reach the same outcome', () => {
    expect(compiled.evaluate('payment.send', { amount: 500 })).toBe(compiled.evaluate('payment.send', { amount: '9000', to: 'x' }));
    expect(compiled.evaluate('payment.send', {})).toBe(compiled.evaluate('payment.send', { amount: true }));
    expect(compiled.evaluate('a.b', {})).toBe(compiled.evaluate('c', { x: 1 }));
  });

  it('carry the rule’s approval requirements for escalations and none otherwise', () => {
    expect(compiled.evaluate('payment.send', { amount: 500 }).approval).toEqual({
      requiredApprovals: 2,
      approverRoles: ['finance'],
      timeoutMs: undefined,
      timeoutAction: 'deny',
    });
    expect(compiled.evaluate('payment.refund', { amount: 5 }).approval).toBeNull();
    expect(compiled.evaluate('shell.exec', {}).approval).toMatchObject({ requiredApprovals: 1, approverRoles: [] });
  });

  it('does not change with the caller mutating args afterwards', () => {
    const args = { amount: 500 };
    const match = compiled.evaluate('payment.send', args);
    args.amount = 1;
    expect(match.ruleId).toBe('big');
  });

  it('exposes the policy it was compiled from, and is itself frozen', () => {
    expect(Object.isFrozen(compiled)).toBe(true);
    expect(compiled.policy.rules.map((rule) => rule.id)).toEqual(['big', 'small']);
  });
});
