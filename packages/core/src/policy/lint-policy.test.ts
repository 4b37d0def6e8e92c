import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from './compile-policy.js';
import { lintPolicy, type LintCode } from './lint-policy.js';
import { loadPolicy } from './load-policy.js';
import { parsePolicy } from './parse-policy.js';

const seed = fileURLToPath(new URL('../../../../examples/policies/seed.yaml', import.meta.url));

function doc(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** A policy with `default: deny`, so only the rules can draw warnings. */
function rules(...lines: string[]): string {
  return doc('default: deny', 'rules:', ...lines);
}

function lint(text: string): ReturnType<typeof lintPolicy> {
  return lintPolicy(parsePolicy(text, { file: 'policy.yaml' }));
}

function codes(text: string): LintCode[] {
  return lint(text).map((warning) => warning.code);
}

describe('lintPolicy', () => {
  it('finds nothing to say about the seed policy', () => {
    expect(lintPolicy(loadPolicy(seed))).toEqual([]);
  });

  it('finds nothing to say about an explicit deny default and distinct rules', () => {
    expect(lint(rules('  - { tool: a, action: allow }', '  - { tool: b, action: escalate }'))).toEqual([]);
  });

  describe('missing-default and default-allow', () => {
    it('warns when default is absent, at the top of the file', () => {
      expect(lint('rules: []')).toEqual([
        {
          code: 'missing-default',
          ruleId: null,
          file: 'policy.yaml',
          line: 1,
          column: 1,
          message: 'no `default`: calls no rule matches are denied; write `default: deny` to say so',
        },
      ]);
    });

    it('warns on default: allow', () => {
      expect(lint('default: allow\nrules: []')).toEqual([
        {
          code: 'default-allow',
          ruleId: null,
          file: 'policy.yaml',
          line: 1,
          column: 1,
          message: '`default: allow` runs every tool no rule names, including ones added later; prefer `default: deny`',
        },
      ]);
    });

    it.each(['deny', 'escalate'])('says nothing about default: %s', (action) => {
      expect(lint(`default: ${action}\nrules: []`)).toEqual([]);
    });
  });

  describe('timeout-allow', () => {
    it('warns at the rule whose unanswered requests would run anyway', () => {
      const text = rules(
        '  - id: fine',
        '    tool: a',
        '    action: escalate',
        '  - id: fail-open',
        '    tool: b',
        '    action: escalate',
        '    metadata:',
        '      timeout_action: allow',
      );
      expect(lint(text)).toEqual([
        {
          code: 'timeout-allow',
          ruleId: 'fail-open',
          file: 'policy.yaml',
          line: 6,
          column: 5,
          message: "rule 'fail-open' has timeout_action: allow, so a request nobody answers runs anyway (fail-open)",
        },
      ]);
    });

    it('says nothing about timeout_action: deny', () => {
      expect(lint(rules('  - { tool: a, action: escalate, metadata: { timeout_action: deny } }'))).toEqual([]);
    });
  });

  describe('shadowed-rule', () => {
    it('names the rule that shadows and its line', () => {
      const text = rules('  - id: everything', '    tool: "**"', '    action: deny', '  - id: payments', '    tool: payment.send', '    action: escalate');
      expect(lint(text)).toEqual([
        {
          code: 'shadowed-rule',
          ruleId: 'payments',
          file: 'policy.yaml',
          line: 6,
          column: 5,
          message: "rule 'payments' can never match: rule 'everything' (line 3) comes first and matches every call it would",
        },
      ]);
    });

    it.each([
      ['the same exact tool without conditions', ['  - { tool: a.b, action: allow }', '  - { tool: a.b, action: deny }']],
      ['a one-segment glob over an exact name', ['  - { tool: "a.*", action: deny }', '  - { tool: a.b, action: allow }']],
      ['alternatives over an exact name', ['  - { tool: "a.{b,c}", action: deny }', '  - { tool: a.c, action: allow }']],
      ['prefix.** over a glob under it', ['  - { tool: "a.**", action: deny }', '  - { tool: "a.{b,c}.*", action: allow }']],
      ['** over anything', ['  - { tool: "**", action: escalate }', '  - { tool: "x.*", action: deny }']],
      ['a list covering every tool of a later list', ['  - { tool: [a, "b.*"], action: allow }', '  - { tool: [b.x, a], action: deny }']],
      ['an unconditional rule over a conditional one', ['  - { tool: a, action: allow }', '  - { tool: a, action: deny, when: { args.x: 1 } }']],
      [
        'a deny rule whose conditions are a subset of the later rule’s',
        ['  - { tool: a, action: deny, when: { args.x: { gt: 5 } } }', '  - { tool: a, action: allow, when: { args.x: { gt: 5 }, args.y: 1 } }'],
      ],
      [
        'an allow rule over a later allow rule with more conditions',
        ['  - { tool: a, action: allow, when: { args.x: { gt: 5 } } }', '  - { tool: a, action: allow, when: { args.y: 1, args.x: { gt: 5 } } }'],
      ],
      [
        'an escalate rule over a deny rule with the same condition',
        ['  - { tool: a, action: escalate, when: { args.to: { not: { endsWith: "@acme.com" } } } }', '  - { tool: a, action: deny, when: { args.to: { not: { ends_with: "@acme.com" } } } }'],
      ],
    ])('is reported for %s', (_name, lines) => {
      expect(codes(rules(...lines))).toEqual(['shadowed-rule']);
    });

    it.each([
      [
        'an allow rule with conditions followed by an escalate rule with a superset of them (unknown values still reach it)',
        ['  - { tool: a, action: allow, when: { args.x: { lt: 100 } } }', '  - { tool: a, action: escalate, when: { args.x: { lt: 100 }, args.y: 1 } }'],
      ],
      [
        'an allow rule with conditions followed by a deny rule with the same conditions',
        ['  - { tool: a, action: allow, when: { args.x: { lt: 100 } } }', '  - { tool: a, action: deny, when: { args.x: { lt: 100 } } }'],
      ],
      ['a conditional rule followed by an unconditional one', ['  - { tool: a, action: deny, when: { args.x: 1 } }', '  - { tool: a, action: allow }']],
      ['different conditions', ['  - { tool: a, action: deny, when: { args.x: 1 } }', '  - { tool: a, action: allow, when: { args.x: 2 } }']],
      ['a one-segment glob over a deeper name', ['  - { tool: "a.*", action: deny }', '  - { tool: a.b.c, action: allow }']],
      ['a one-segment glob over a ** glob', ['  - { tool: "a.*", action: deny }', '  - { tool: "a.**", action: allow }']],
      ['a list covering only part of a later list', ['  - { tool: [a, b], action: deny }', '  - { tool: [b, c], action: allow }']],
      ['overlapping but different globs', ['  - { tool: "a.*", action: deny }', '  - { tool: "*.b", action: allow }']],
      ['an unrelated tool', ['  - { tool: a, action: deny }', '  - { tool: b, action: deny }']],
    ])('is not reported for %s', (_name, lines) => {
      expect(codes(rules(...lines))).toEqual([]);
    });

    it('is right not to flag the escalate rule after an allow rule: a call with an unknown value reaches it', () => {
      const policy = parsePolicy(
        rules(
          '  - { id: small, tool: a, action: allow, when: { args.x: { lt: 100 } } }',
          '  - { id: review, tool: a, action: escalate, when: { args.x: { lt: 100 }, args.y: 1 } }',
        ),
      );
      expect(lintPolicy(policy)).toEqual([]);
      expect(compilePolicy(policy).evaluate('a', { x: 'many', y: 1 })).toMatchObject({ ruleId: 'review', unknownPath: 'args.x' });
    });
  });

  describe('unsatisfiable-rule', () => {
    it.each([
      ['gt above lt', '{ args.x: { gt: 5, lt: 3 } }', 'no number is > 5 and < 3 for args.x'],
      ['gt and lt on one bound', '{ args.x: { gt: 5, lt: 5 } }', 'no number is > 5 and < 5 for args.x'],
      ['eq outside a bound', '{ args.x: { eq: 5, gt: 5 } }', 'no number is > 5 and <= 5 for args.x'],
      ['gte above lte', '{ args.x: { gte: 10, lte: 1 } }', 'no number is >= 10 and <= 1 for args.x'],
      ['an empty in list', '{ args.x: { in: [] } }', 'args.x is never in an empty list'],
      ['absent and compared', '{ args.x: { exists: false, starts_with: a } }', 'args.x must be absent (or null) and also hold a value'],
      ['a contradiction inside all', '{ all: [{ args.y: 1 }, { args.x: { gt: 2, lt: 1 } }] }', 'no number is > 2 and < 1 for args.x'],
    ])('is reported for %s', (_name, when, why) => {
      expect(lint(rules('  - id: never', '    tool: a', '    action: allow', `    when: ${when}`))).toEqual([
        { code: 'unsatisfiable-rule', ruleId: 'never', file: 'policy.yaml', line: 3, column: 5, message: `rule 'never' can never match: ${why}` },
      ]);
    });

    it('says a deny or escalate rule still applies to values that cannot be judged', () => {
      const [warning] = lint(rules('  - id: never', '    tool: a', '    action: escalate', '    when: { args.x: { gt: 5, lt: 3 } }'));
      expect(warning?.message).toBe(
        "rule 'never' can never match: no number is > 5 and < 3 for args.x (it still applies when args.x is missing or not judgeable: unknown fails closed)",
      );
    });

    it.each([
      ['an inclusive single point', '{ args.x: { gte: 5, lte: 5 } }'],
      ['a range', '{ args.x: { gt: 1, lt: 2 } }'],
      ['bounds on different paths', '{ args.x: { gt: 5 }, args.y: { lt: 3 } }'],
      ['alternatives in any', '{ any: [{ args.x: { gt: 5 } }, { args.x: { lt: 3 } }] }'],
      ['a negated bound', '{ args.x: { gt: 5, not: { gt: 3 } } }'],
      ['exists: false alone', '{ args.x: { exists: false } }'],
      ['exists: true with a comparison', '{ args.x: { exists: true, gt: 1 } }'],
    ])('is not reported for %s', (_name, when) => {
      expect(codes(rules('  - tool: a', '    action: allow', `    when: ${when}`))).toEqual([]);
    });

    // `exists: false` holds for null, and so do ne / not_in / eq null: the rule matches { x: null }.
    it.each([
      ['exists: false with ne', '{ args.x: { exists: false, ne: 5 } }'],
      ['exists: false with eq null', '{ args.x: { exists: false, eq: null } }'],
    ])('is not reported for %s, which matches a null value', (_name, when) => {
      const policy = parsePolicy(rules('  - id: nullable', '    tool: a', '    action: allow', `    when: ${when}`));
      expect(compilePolicy(policy).evaluate('a', { x: null }).ruleId).toBe('nullable');
      expect(lintPolicy(policy).map((warning) => warning.code)).toEqual([]);
    });
  });

  it('reports several problems in one policy, each at its rule', () => {
    const text = doc(
      'default: allow',
      'rules:',
      '  - { id: all-tools, tool: "**", action: escalate, metadata: { timeout_action: allow } }',
      '  - { id: never, tool: a, action: deny, when: { args.x: { in: [] } } }',
    );
    expect(lint(text).map(({ code, ruleId, line }) => [code, ruleId, line])).toEqual([
      ['default-allow', null, 1],
      ['timeout-allow', 'all-tools', 3],
      ['shadowed-rule', 'never', 4],
      ['unsatisfiable-rule', 'never', 4],
    ]);
  });
});

describe('lintPolicy: history conditions and shadow rules', () => {
  it('warns about a window longer than the history is kept', () => {
    const text = rules('  - { tool: t, action: escalate, when: { args.n: { gt: 0 }, window: { within: 30d }, count: { gt: 5 } } }');
    expect(lint(text)).toEqual([expect.objectContaining({ code: 'window-exceeds-retention', line: 3, message: "rule 'rule-1': count looks back 30d but the control plane keeps calls for 7d, so older calls are not counted; raise call_history.retention" })]);
    expect(lintPolicy(parsePolicy(text), { historyRetentionMs: 31 * 86_400_000 })).toEqual([]);
  });

  it('warns about a per path that no rule tests', () => {
    expect(codes(rules('  - { tool: t, action: escalate, when: { window: { within: 1h, per: [context.user] }, count: { gte: 3 } } }'))).toEqual(['per-path-untested']);
    expect(
      codes(
        rules(
          '  - { tool: t, action: deny, when: { context.user: { exists: false } } }',
          '  - { tool: t, action: escalate, when: { window: { within: 1h, per: [context.user] }, count: { gte: 3 } } }',
        ),
      ),
    ).toEqual([]);
  });

  it('warns about a shadow rule an enforced rule always decides first, and lets shadow rules shadow nothing enforced', () => {
    expect(codes(rules('  - { id: all, tool: t, action: allow }', '  - { id: watch, tool: t, action: deny, mode: shadow, when: { args.n: { gt: 5 } } }'))).toEqual(['shadow-rule-shadowed']);
    expect(codes(rules('  - { id: watch, tool: t, action: deny, mode: shadow }', '  - { id: all, tool: t, action: allow }'))).toEqual([]);
  });
});
