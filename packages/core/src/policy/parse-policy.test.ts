import { describe, expect, it } from 'vitest';
import { PolicyError, type PolicyIssue } from '../errors/policy-error.js';
import { SignoffError } from '../errors/signoff-error.js';
import { parsePolicy, type ParsePolicyOptions, type PolicyReviewer } from './parse-policy.js';

/** Joins lines into a YAML document, so line and column numbers can be read off the source. */
function doc(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** One rule (`tool: a`) with a `when` whose single entry is on line 5, starting at column 7. */
function whenCase(conditionLine: string): string {
  return doc('rules:', '  - tool: a', '    action: deny', '    when:', `      ${conditionLine}`);
}

/** One escalate rule whose single metadata entry is on line 5, starting at column 7. */
function metadataCase(metadataLine: string): string {
  return doc('rules:', '  - tool: a', '    action: escalate', '    metadata:', `      ${metadataLine}`);
}

interface ExpectedIssue {
  readonly line: number;
  readonly column: number;
  readonly message: unknown;
  readonly path?: string;
}

function issue(line: number, column: number, message: unknown, path?: string): ExpectedIssue {
  return path === undefined ? { line, column, message } : { line, column, message, path };
}

const containing = (text: string): unknown => expect.stringContaining(text);

/** The message for a construct RE2 leaves out. */
function unsupported(construct: string): string {
  return `unsupported regular expression: ${construct} — matches uses RE2 syntax, which runs in linear time and so has no lookahead, lookbehind, backreferences, atomic groups or possessive quantifiers`;
}

function rejection(text: string, options: ParsePolicyOptions = {}): PolicyError {
  try {
    parsePolicy(text, { file: 'policy.yaml', ...options });
  } catch (error) {
    if (PolicyError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the policy to be rejected, but it loaded');
}

function issuesOf(text: string, options: ParsePolicyOptions = {}): readonly PolicyIssue[] {
  return rejection(text, options).issues;
}

function expectIssues(text: string, expected: readonly ExpectedIssue[], options: ParsePolicyOptions = {}): void {
  const issues = issuesOf(text, options);
  expect(issues).toEqual(expected.map((one) => expect.objectContaining({ file: 'policy.yaml', ...one })));
}

const OPERATOR_LIST =
  'eq, ne, gt, gte, lt, lte, in, not_in, notIn, contains, starts_with, startsWith, ends_with, endsWith, matches, exists, not';
const RULE_KEYS = 'id, tool, action, when, reason, metadata, mode';

const malformed: ReadonlyArray<readonly [string, string, readonly ExpectedIssue[]]> = [
  // YAML itself
  ['YAML syntax error: unclosed quote', doc('rules:', '  - tool: "a', '    action: deny'), [issue(4, 1, 'YAML: Missing closing "quote', '')]],
  ['YAML syntax error: tab indentation', doc('rules:', '\t- tool: a'), [issue(2, 1, 'YAML: Tabs are not allowed as indentation')]],
  [
    'YAML syntax error: block list inside a flow list',
    doc('rules: [', '  - tool: a'),
    [
      issue(2, 3, 'YAML: Block collections are not allowed within flow collections'),
      issue(3, 1, containing('Flow sequence in block collection must be sufficiently indented and end with a ]')),
    ],
  ],
  ['duplicate top-level key', doc('rules: []', 'rules: []'), [issue(2, 1, 'YAML: Map keys must be unique')]],
  [
    'duplicate condition path inside when',
    doc('rules:', '  - tool: a', '    action: deny', '    when:', '      args.x: 1', '      args.x: 2'),
    [issue(6, 7, 'YAML: Map keys must be unique')],
  ],
  ['multiple documents', doc('rules: []', '---', 'rules: []'), [issue(2, 1, containing('multiple documents'))]],
  ['alias bomb', doc('a: &a [1,1,1,1,1,1,1,1,1,1]', 'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]', 'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]', 'rules: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]'), [issue(1, 1, containing('Excessive alias count'))]],

  // the document
  ['empty document', '', [issue(1, 1, 'expected a mapping, got an empty document', '')]],
  ['document with only a comment', doc('# nothing here'), [issue(1, 1, 'expected a mapping, got an empty document')]],
  ['top level is a list', doc('- tool: a', '  action: deny'), [issue(1, 1, 'expected a mapping, got a list')]],
  ['top level is a scalar', doc('hello'), [issue(1, 1, 'expected a mapping, got "hello"')]],
  [
    'unknown top-level key',
    doc('version: 1', 'rulez: []', 'rules: []'),
    [issue(2, 1, "unknown top-level key 'rulez'; expected one of: version, default, rules, mode", 'rulez')],
  ],
  ['version 2', doc('version: 2', 'rules: []'), [issue(1, 10, 'expected version 1, got 2', 'version')]],
  ['version as a string', doc('version: "1"', 'rules: []'), [issue(1, 10, 'expected version 1, got "1"')]],
  ['bad default', doc('default: maybe', 'rules: []'), [issue(1, 10, 'expected allow, deny or escalate, got "maybe"', 'default')]],
  ['rules missing', doc('default: deny'), [issue(1, 1, "missing required key 'rules': expected a list of rules", 'rules')]],
  ['rules is a mapping', doc('rules:', '  tool: a'), [issue(2, 3, 'expected a list of rules, got a mapping', 'rules')]],
  ['rules is null', doc('rules: null'), [issue(1, 8, 'expected a list of rules, got null')]],

  // rules
  ['rule is not a mapping', doc('rules:', '  - just-a-string'), [issue(2, 5, 'expected a mapping, got "just-a-string"', 'rules[0]')]],
  [
    'missing tool',
    doc('rules:', '  - action: deny'),
    [issue(2, 5, "missing required key 'tool': expected a tool name, glob, or list of them", 'rules[0].tool')],
  ],
  [
    'missing action',
    doc('rules:', '  - tool: a'),
    [issue(2, 5, "missing required key 'action': expected allow, deny or escalate", 'rules[0].action')],
  ],
  [
    'bad action',
    doc('rules:', '  - tool: a', '    action: block'),
    [issue(3, 13, 'expected allow, deny or escalate, got "block"', 'rules[0].action')],
  ],
  [
    'tool is a number',
    doc('rules:', '  - tool: 42', '    action: deny'),
    [issue(2, 11, 'expected a tool name, glob, or list of them, got 42', 'rules[0].tool')],
  ],
  [
    'tool is a mapping',
    doc('rules:', '  - tool: { a: 1 }', '    action: deny'),
    [issue(2, 11, 'expected a tool name, glob, or list of them, got a mapping')],
  ],
  ['empty tool list', doc('rules:', '  - tool: []', '    action: deny'), [issue(2, 11, 'expected at least one tool', 'rules[0].tool')]],
  [
    'unknown rule key',
    doc('rules:', '  - tool: a', '    action: deny', '    reasn: typo'),
    [issue(4, 5, `unknown rule key 'reasn'; expected one of: ${RULE_KEYS}`, 'rules[0].reasn')],
  ],
  [
    'rule id with a bad character',
    doc('rules:', '  - id: "-x"', '    tool: a', '    action: deny'),
    [issue(2, 9, 'expected an id of letters, digits, and _ . : - (starting with a letter or digit)', 'rules[0].id')],
  ],
  ['reason is not a string', doc('rules:', '  - tool: a', '    action: deny', '    reason: 5'), [issue(4, 13, 'expected a reason string, got 5')]],

  // tool globs
  ['glob: unclosed {', doc('rules:', '  - tool: "a.{b,c"', '    action: deny'), [issue(2, 11, "'a.{b,c' has a '{' that is never closed")]],
  ['glob: stray }', doc('rules:', '  - tool: "a.b}"', '    action: deny'), [issue(2, 11, "'a.b}' has a '}' without a matching '{'")]],
  [
    'glob: single alternative {b}',
    doc('rules:', '  - tool: "a.{b}"', '    action: deny'),
    [issue(2, 11, "'a.{b}' has braces with a single alternative; write '{a,b}' or drop the braces")],
  ],
  [
    'glob: nested braces',
    doc('rules:', '  - tool: "a.{b,{c,d}}"', '    action: deny'),
    [issue(2, 11, "'a.{b,{c,d}}' nests braces; alternatives cannot contain '{'")],
  ],
  [
    'glob: ***',
    doc('rules:', '  - tool: "a.***"', '    action: deny'),
    [issue(2, 11, "'a.***' has '***'; use '*' (one segment) or '**' (any segments)")],
  ],
  [
    'glob: empty string',
    doc('rules:', '  - tool: ""', '    action: deny'),
    [issue(2, 11, 'expected a tool name or glob, got an empty string', 'rules[0].tool')],
  ],
  [
    'glob: bad entry inside a tool list is located at the entry',
    doc('rules:', '  - tool: [a.b, "c.{d"]', '    action: deny'),
    [issue(2, 17, "'c.{d' has a '{' that is never closed", 'rules[0].tool[1]')],
  ],

  // when
  [
    'when is a list',
    doc('rules:', '  - tool: a', '    action: deny', '    when: [1]'),
    [issue(4, 11, 'expected a mapping of conditions (path: condition), got a list', 'rules[0].when')],
  ],
  [
    'when is a scalar',
    doc('rules:', '  - tool: a', '    action: deny', '    when: yes'),
    [issue(4, 11, 'expected a mapping of conditions (path: condition), got "yes"')],
  ],
  [
    'condition path without args./context. (with a did-you-mean hint)',
    whenCase('amount: { gt: 1 }'),
    [
      issue(
        5,
        7,
        "unknown condition 'amount': expected a path starting with 'args.' or 'context.', or 'any' / 'all' (did you mean 'args.amount'?)",
        'rules[0].when.amount',
      ),
    ],
  ],
  [
    'condition path that cannot be a name gets no hint',
    whenCase('"$x": 1'),
    [issue(5, 7, "unknown condition '$x': expected a path starting with 'args.' or 'context.', or 'any' / 'all'")],
  ],
  [
    'list literal as a condition',
    whenCase('args.x: [1, 2]'),
    [issue(5, 15, 'a list here is ambiguous: write { in: [...] } for membership or { eq: [...] } for an equal list', 'rules[0].when.args.x')],
  ],
  [
    'unknown operator next to a valid one',
    whenCase('args.x: { gt: 1, greater: 2 }'),
    [issue(5, 24, `unknown operator 'greater'; expected one of: ${OPERATOR_LIST}`, 'rules[0].when.args.x.greater')],
  ],
  ['gt with a string operand', whenCase('args.x: { gt: "100" }'), [issue(5, 21, 'expected a number, got "100"', 'rules[0].when.args.x.gt')]],
  ['gt with .inf', whenCase('args.x: { gt: .inf }'), [issue(5, 21, 'expected a number, got Infinity')]],
  ['literal .nan', whenCase('args.x: .nan'), [issue(5, 15, 'expected a string, number, boolean or null, got NaN')]],
  ['in with a scalar operand', whenCase('args.x: { in: 5 }'), [issue(5, 21, 'expected a list of values, got 5', 'rules[0].when.args.x.in')]],
  [
    'in with a nested list',
    whenCase('args.x: { in: [[1]] }'),
    [issue(5, 22, 'expected a string, number, boolean or null, got a list', 'rules[0].when.args.x.in[0]')],
  ],
  ['starts_with a number', whenCase('args.x: { starts_with: 5 }'), [issue(5, 30, 'expected a string, got 5', 'rules[0].when.args.x.starts_with')]],
  ['exists with a string', whenCase('args.x: { exists: "yes" }'), [issue(5, 25, 'expected true or false, got "yes"', 'rules[0].when.args.x.exists')]],
  ['matches a number', whenCase('args.x: { matches: 5 }'), [issue(5, 26, 'expected a regular expression as a string, got 5')]],
  ['contains a list', whenCase('args.x: { contains: [1] }'), [issue(5, 27, 'expected a string, number, boolean or null, got a list')]],
  ['not wrapping a scalar', whenCase('args.x: { not: 5 }'), [issue(5, 22, 'expected a mapping, got 5', 'rules[0].when.args.x.not')]],
  ['wrong operand inside not', whenCase('args.x: { not: { gt: a } }'), [issue(5, 28, 'expected a number, got "a"', 'rules[0].when.args.x.not.gt')]],
  ['empty operator object', whenCase('args.x: {}'), [issue(5, 15, 'expected at least one operator, e.g. { eq: … }', 'rules[0].when.args.x')]],
  ['empty operator object inside not', whenCase('args.x: { not: {} }'), [issue(5, 22, 'expected at least one operator, e.g. { eq: … }')]],
  [
    'two spellings of one operator: ends_with + endsWith',
    whenCase('args.x: { ends_with: a, endsWith: b }'),
    [issue(5, 31, "'endsWith' repeats 'ends_with' (two spellings of one operator)", 'rules[0].when.args.x.endsWith')],
  ],
  [
    'two spellings of one operator: not_in + notIn',
    whenCase('args.x: { not_in: [a], notIn: [b] }'),
    [issue(5, 30, "'notIn' repeats 'not_in' (two spellings of one operator)", 'rules[0].when.args.x.notIn')],
  ],
  [
    'invalid regex',
    whenCase('args.x: { matches: "(a" }'),
    [issue(5, 26, 'invalid regular expression (RE2 syntax): missing closing ): `(a`', 'rules[0].when.args.x.matches')],
  ],
  // RE2 leaves these out to match in linear time: each is named, not reported as a bare syntax error.
  ['regex with a backreference', whenCase(String.raw`args.x: { matches: '(a)\1' }`), [issue(5, 26, unsupported('backreference `\\1`'), 'rules[0].when.args.x.matches')]],
  ['regex with a named backreference', whenCase(String.raw`args.x: { matches: '(?<q>a)\k<q>' }`), [issue(5, 26, unsupported('named backreference `\\k`'))]],
  ['regex with a lookahead', whenCase('args.x: { matches: "^(?=.*[0-9])" }'), [issue(5, 26, unsupported('lookahead `(?=`'))]],
  ['regex with a negative lookahead', whenCase('args.x: { matches: "^(?!admin)" }'), [issue(5, 26, unsupported('lookahead `(?!`'))]],
  ['regex with a lookbehind', whenCase('args.x: { matches: "(?<=@)acme" }'), [issue(5, 26, unsupported('lookbehind `(?<=`'))]],
  ['regex with a negative lookbehind', whenCase('args.x: { matches: "(?<!@)acme" }'), [issue(5, 26, unsupported('lookbehind `(?<!`'))]],
  ['regex with a possessive quantifier', whenCase('args.x: { matches: "a++b" }'), [issue(5, 26, unsupported('possessive quantifier `++`'))]],
  ['regex with an atomic group', whenCase('args.x: { matches: "(?>a|ab)c" }'), [issue(5, 26, unsupported('atomic group `(?>`'))]],
  [
    'regex with a JS \\u escape',
    whenCase(String.raw`args.x: { matches: '\u00e9' }`),
    [issue(5, 26, 'invalid regular expression (RE2 syntax): invalid escape sequence: `\\u` (RE2 writes a code point as \\x{00E9})')],
  ],
  [
    'regex compiling to more than 2000 RE2 instructions',
    whenCase(String.raw`args.x: { matches: '\p{L}{1000}\p{L}{1000}' }`),
    [issue(5, 26, 'regular expression compiles to 2002 RE2 instructions (at most 2000); use smaller repeat counts')],
  ],
  ['regex longer than 1000 characters', whenCase(`args.x: { matches: "${'a'.repeat(1001)}" }`), [issue(5, 26, 'expected a pattern of at most 1000 characters')]],
  ['any: []', whenCase('any: []'), [issue(5, 12, 'expected at least one condition mapping', 'rules[0].when.any')]],
  ['any is a mapping', whenCase('any: { args.x: 1 }'), [issue(5, 12, 'expected a list of condition mappings, got a mapping', 'rules[0].when.any')]],
  ['all holding null', whenCase('all: [ null ]'), [issue(5, 14, 'expected a mapping of conditions (path: condition), got null', 'rules[0].when.all[0]')]],
  [
    'bad path inside any is located inside the list',
    doc('rules:', '  - tool: a', '    action: deny', '    when:', '      any:', '        - args.x: 1', '        - x: 2'),
    [issue(7, 11, containing("unknown condition 'x'"), 'rules[0].when.any[1].x')],
  ],

  // metadata
  ['required_approvals: 0', metadataCase('required_approvals: 0'), [issue(5, 27, 'expected at least 1 approval', 'rules[0].metadata.required_approvals')]],
  ['required_approvals: 1.5', metadataCase('required_approvals: 1.5'), [issue(5, 27, 'expected a whole number of approvals, got 1.5')]],
  ['required_approvals: 101', metadataCase('required_approvals: 101'), [issue(5, 27, 'expected at most 100 approvals')]],
  ['required_approvals as a string', metadataCase('required_approvals: "2"'), [issue(5, 27, 'expected a whole number of approvals, got "2"')]],
  [
    'empty approver_roles',
    metadataCase('approver_roles: []'),
    [issue(5, 23, 'expected at least one role (omit approver_roles to let any reviewer approve)', 'rules[0].metadata.approver_roles')],
  ],
  ['duplicate approver_roles', metadataCase('approver_roles: [a, b, a]'), [issue(5, 23, 'expected each role once')]],
  ['empty role name', metadataCase('approver_roles: [a, ""]'), [issue(5, 27, 'expected a non-empty role name', 'rules[0].metadata.approver_roles[1]')]],
  ['negative timeout', metadataCase('approval_timeout_minutes: -5'), [issue(5, 33, 'expected a positive number of minutes')]],
  ['zero timeout', metadataCase('approval_timeout_minutes: 0'), [issue(5, 33, 'expected a positive number of minutes')]],
  ['timeout over 30 days', metadataCase('approval_timeout_minutes: 50000'), [issue(5, 33, 'expected at most 43200 minutes (30 days)')]],
  ['bad timeout_action', metadataCase('timeout_action: escalate'), [issue(5, 23, 'expected deny or allow, got "escalate"', 'rules[0].metadata.timeout_action')]],
  [
    'unknown metadata key',
    metadataCase('approvals: 2'),
    [
      issue(
        5,
        7,
        "unknown metadata key 'approvals'; expected one of: required_approvals, approver_roles, approval_timeout_minutes, timeout_action, grant_ttl_minutes",
      ),
    ],
  ],
  [
    'metadata on a deny rule',
    doc('rules:', '  - tool: a', '    action: deny', '    metadata:', '      required_approvals: 2'),
    [issue(4, 5, "metadata (approvals, timeout) applies only to escalate rules; this rule's action is deny", 'rules[0].metadata')],
  ],
  [
    'metadata on an allow rule',
    doc('rules:', '  - tool: a', '    action: allow', '    metadata: { timeout_action: deny }'),
    [issue(4, 5, "metadata (approvals, timeout) applies only to escalate rules; this rule's action is allow")],
  ],

  // ids
  [
    'duplicate explicit rule ids',
    doc('rules:', '  - id: x', '    tool: a', '    action: deny', '  - id: x', '    tool: b', '    action: deny'),
    [issue(5, 9, "duplicate rule id 'x' (also rule 1); ids must be unique", 'rules[1].id')],
  ],
  [
    'explicit id clashing with a later generated rule-2',
    doc('rules:', '  - id: rule-2', '    tool: a', '    action: deny', '  - tool: b', '    action: deny'),
    [issue(5, 5, "duplicate rule id 'rule-2' (also rule 1); ids must be unique", 'rules[1]')],
  ],
  [
    'explicit id clashing with an earlier generated rule-1',
    doc('rules:', '  - tool: a', '    action: deny', '  - id: rule-1', '    tool: b', '    action: deny'),
    [issue(4, 9, "duplicate rule id 'rule-1' (also rule 1); ids must be unique", 'rules[1].id')],
  ],
];

describe('parsePolicy rejects malformed policies with file, line, column and what was expected', () => {
  it('covers at least 35 malformed policies', () => {
    expect(malformed.length).toBeGreaterThanOrEqual(35);
  });

  it.each(malformed)('%s', (_name, text, expected) => {
    expectIssues(text, expected);
  });
});

describe('parsePolicy with a reviewer directory', () => {
  const reviewers: PolicyReviewer[] = [
    { id: 'ann', roles: ['finance'] },
    { id: 'bob', roles: ['finance', 'engineering-lead'] },
    { id: 'cy', roles: ['security'] },
  ];

  it.each([
    [
      'more approvals than holders of the roles',
      metadataCase('required_approvals: 3\n      approver_roles: [finance]'),
      [issue(5, 27, 'requires 3 approvals but only 2 reviewers hold finance; it could never be approved', 'rules[0].metadata.required_approvals')],
    ],
    [
      'more approvals than reviewers at all',
      metadataCase('required_approvals: 4'),
      [issue(5, 27, 'requires 4 approvals but only 3 reviewers exist; it could never be approved')],
    ],
    [
      'a role nobody holds',
      metadataCase('approver_roles: [finance, auditor]'),
      [issue(5, 23, "no reviewer holds role 'auditor'", 'rules[0].metadata.approver_roles')],
    ],
    [
      'a role nobody holds and too few holders of the rest',
      metadataCase('required_approvals: 3\n      approver_roles: [security, auditor]'),
      [
        // "1 reviewers hold" reads badly; accept either number agreement so a wording fix does not break this.
        issue(5, 27, expect.stringMatching(/^requires 3 approvals but only 1 reviewers? holds? security or auditor; it could never be approved$/)),
        issue(6, 23, "no reviewer holds role 'auditor'"),
      ],
    ],
  ] as const)('%s', (_name, text, expected) => {
    expectIssues(text, expected, { reviewers });
  });

  it('accepts requirements the directory can meet', () => {
    const policy = parsePolicy(metadataCase('required_approvals: 2\n      approver_roles: [finance, security]'), { reviewers });
    expect(policy.rules[0]?.approval).toMatchObject({ requiredApprovals: 2, approverRoles: ['finance', 'security'] });
  });

  it('does not check reviewers when no directory is given', () => {
    expect(() => parsePolicy(metadataCase('required_approvals: 100'))).not.toThrow();
  });
});

describe('PolicyError', () => {
  const several = doc(
    'version: 2', //              1:10
    'default: nope', //           2:10
    'rules:',
    '  - id: same', //
    '    tool: ""', //            5:11
    '    action: deny',
    '  - id: same', //            7:9 duplicate id (semantic check)
    '    tool: a',
    '    action: bogus', //       9:13
    '    extra: 1', //            10:5
    '    when:',
    '      amount: 1', //         12:7
  );

  it('reports every problem in a file at once (schema and semantic checks), sorted by position', () => {
    const issues = issuesOf(several);
    expect(issues.map(({ line, column }) => [line, column])).toEqual([
      [1, 10],
      [2, 10],
      [5, 11],
      [7, 9],
      [9, 13],
      [10, 5],
      [12, 7],
    ]);
    expect(issues.map(({ message }) => message)).toEqual([
      'expected version 1, got 2',
      'expected allow, deny or escalate, got "nope"',
      'expected a tool name or glob, got an empty string',
      "duplicate rule id 'same' (also rule 1); ids must be unique",
      'expected allow, deny or escalate, got "bogus"',
      `unknown rule key 'extra'; expected one of: ${RULE_KEYS}`,
      containing("unknown condition 'amount'"),
    ]);
  });

  it('sorts issues by line then column even when found out of order', () => {
    const issues = issuesOf(doc('rules:', '  - tool: a', '    action: deny', '    when: { args.a: { gt: x }, args.b: { lt: y } }', 'extra: 1'));
    const positions = issues.map(({ line, column }) => [line, column] as const);
    expect(positions).toEqual([
      [4, 27],
      [4, 46],
      [5, 1],
    ]);
  });

  it('is a PolicyError and a SignoffError with code POLICY_INVALID, positioned at the first issue', () => {
    const error = rejection(several, { file: 'team/policy.yaml' });
    expect(PolicyError.isInstance(error)).toBe(true);
    expect(SignoffError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.name).toBe('PolicyError');
    expect({ file: error.file, line: error.line, column: error.column }).toEqual({ file: 'team/policy.yaml', line: 1, column: 10 });
    expect(error.issues.every((one) => one.file === 'team/policy.yaml')).toBe(true);
  });

  it('has a message with one compiler-style line per issue', () => {
    const error = rejection(doc('version: 2', 'default: nope', 'rules: []'));
    expect(error.message).toBe(
      ['policy.yaml:1:10: expected version 1, got 2', 'policy.yaml:2:10: expected allow, deny or escalate, got "nope"'].join('\n'),
    );
  });

  it('names file:line:column for a matches pattern RE2 cannot express, wherever it sits', () => {
    const error = rejection(
      doc(
        'rules:',
        '  - tool: email.send',
        '    action: deny',
        '    when:',
        '      any:',
        '        - args.to: { not: { matches: "@(?!acme\\\\.com$)" } }',
        '        - args.cc:',
        "            matches: '(?<=@)evil'",
      ),
      { file: 'team/policy.yaml' },
    );
    expect(error.message).toBe(
      [
        `team/policy.yaml:6:38: ${unsupported('lookahead `(?!`')}`,
        `team/policy.yaml:8:22: ${unsupported('lookbehind `(?<=`')}`,
      ].join('\n'),
    );
  });

  it('names <inline> when no file is given', () => {
    try {
      parsePolicy('rules: 5');
      expect.unreachable();
    } catch (error) {
      expect(PolicyError.isInstance(error) && error.file).toBe('<inline>');
    }
  });

  it('is not mistaken for other errors', () => {
    expect(PolicyError.isInstance(new Error('x'))).toBe(false);
    expect(PolicyError.isInstance(new SignoffError('INVALID_ARGUMENT', 'x'))).toBe(false);
    expect(PolicyError.isInstance(null)).toBe(false);
    expect(SignoffError.isInstance('POLICY_INVALID')).toBe(false);
  });
});

describe('parsePolicy normalizes a valid policy', () => {
  it('maps operator aliases to snake_case and literals to eq', () => {
    const policy = parsePolicy(
      doc(
        'rules:',
        '  - tool: a',
        '    action: deny',
        '    when:',
        '      args.to: { endsWith: "@acme.com" }',
        '      args.cmd: { startsWith: "rm " }',
        '      args.env: { notIn: [prod] }',
        '      context.user: alice',
      ),
    );
    expect(policy.rules[0]?.condition).toEqual({
      kind: 'all',
      conditions: [
        { kind: 'test', path: 'args.to', operator: 'ends_with', operand: '@acme.com' },
        { kind: 'test', path: 'args.cmd', operator: 'starts_with', operand: 'rm ' },
        { kind: 'test', path: 'args.env', operator: 'not_in', operand: ['prod'] },
        { kind: 'test', path: 'context.user', operator: 'eq', operand: 'alice' },
      ],
    });
  });

  it('keeps not, any and all as a tree, and a single test unwrapped', () => {
    const policy = parsePolicy(
      doc(
        'rules:',
        '  - tool: a',
        '    action: deny',
        '    when:',
        '      args.to: { not: { ends_with: "@acme.com" } }',
        '  - tool: a',
        '    action: deny',
        '    when:',
        '      any:',
        '        - args.n: { gt: 1, lt: 5 }',
        '        - all: [{ context.env: prod }, {}]',
      ),
    );
    expect(policy.rules[0]?.condition).toEqual({
      kind: 'not',
      condition: { kind: 'test', path: 'args.to', operator: 'ends_with', operand: '@acme.com' },
    });
    expect(policy.rules[1]?.condition).toEqual({
      kind: 'any',
      conditions: [
        {
          kind: 'all',
          conditions: [
            { kind: 'test', path: 'args.n', operator: 'gt', operand: 1 },
            { kind: 'test', path: 'args.n', operator: 'lt', operand: 5 },
          ],
        },
        {
          kind: 'all',
          conditions: [{ kind: 'test', path: 'context.env', operator: 'eq', operand: 'prod' }, { kind: 'all', conditions: [] }],
        },
      ],
    });
  });

  it('gives rules without an id rule-<position>, and tool lists as arrays', () => {
    const policy = parsePolicy(
      doc('rules:', '  - tool: a', '    action: deny', '  - id: named', '    tool: [b, "c.*"]', '    action: allow', '  - tool: "**"', '    action: deny'),
    );
    expect(policy.rules.map((rule) => rule.id)).toEqual(['rule-1', 'named', 'rule-3']);
    expect(policy.rules.map((rule) => rule.tools)).toEqual([['a'], ['b', 'c.*'], ['**']]);
    expect(policy.rules.map((rule) => rule.location)).toEqual([
      { file: '<inline>', line: 2, column: 5 },
      { file: '<inline>', line: 4, column: 5 },
      { file: '<inline>', line: 7, column: 5 },
    ]);
  });

  it('treats an empty when as no condition', () => {
    expect(parsePolicy(doc('rules:', '  - tool: a', '    action: deny', '    when: {}')).rules[0]?.condition).toBeNull();
  });

  it('defaults to deny when default is absent, and says so', () => {
    const absent = parsePolicy('rules: []');
    expect(absent.defaultAction).toBe('deny');
    expect(absent.hasExplicitDefault).toBe(false);
    const explicit = parsePolicy('default: escalate\nrules: []');
    expect(explicit.defaultAction).toBe('escalate');
    expect(explicit.hasExplicitDefault).toBe(true);
  });

  it('fills approval defaults for escalate rules only, and converts minutes to timeoutMs', () => {
    const policy = parsePolicy(
      doc(
        'rules:',
        '  - tool: a',
        '    action: escalate',
        '  - tool: b',
        '    action: escalate',
        '    metadata:',
        '      required_approvals: 2',
        '      approver_roles: [finance, security]',
        '      approval_timeout_minutes: 30',
        '      timeout_action: allow',
        '  - tool: c',
        '    action: escalate',
        '    metadata: { approval_timeout_minutes: 0.5 }',
        '  - tool: d',
        '    action: allow',
        '  - tool: e',
        '    action: deny',
      ),
    );
    expect(policy.rules.map((rule) => rule.approval)).toEqual([
      { requiredApprovals: 1, approverRoles: [], timeoutMs: undefined, timeoutAction: 'deny' },
      { requiredApprovals: 2, approverRoles: ['finance', 'security'], timeoutMs: 1_800_000, timeoutAction: 'allow' },
      { requiredApprovals: 1, approverRoles: [], timeoutMs: 30_000, timeoutAction: 'deny' },
      null,
      null,
    ]);
  });

  it('accepts JSON as well as YAML', () => {
    const policy = parsePolicy('{"version": 1, "default": "allow", "rules": [{"tool": "a", "action": "deny", "when": {"args.n": {"gt": 1}}}]}');
    expect(policy.defaultAction).toBe('allow');
    expect(policy.rules[0]?.condition).toEqual({ kind: 'test', path: 'args.n', operator: 'gt', operand: 1 });
  });

  it('returns a deeply frozen policy', () => {
    const policy = parsePolicy(doc('rules:', '  - tool: a', '    action: escalate', '    when: { args.n: { in: [1, 2] } }'));
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.rules)).toBe(true);
    expect(Object.isFrozen(policy.rules[0]?.approval)).toBe(true);
    expect(Object.isFrozen(policy.rules[0]?.condition)).toBe(true);
    expect(() => {
      (policy.rules as unknown as unknown[]).push({});
    }).toThrow(TypeError);
  });
});

describe('policy hash', () => {
  const base = doc(
    'version: 1',
    'default: deny',
    'rules:',
    '  - id: big-payments',
    '    tool: payment.send',
    '    action: escalate',
    '    when:',
    '      args.amount: { gt: 100 }',
    '      args.to: { not: { endsWith: "@acme.com" } }',
    '    reason: "Payment of {args.amount}"',
    '    metadata:',
    '      required_approvals: 2',
    '      approver_roles: [finance]',
  );
  const hashOf = (text: string): string => parsePolicy(text).hash;

  it('is a sha256 hex digest', () => {
    expect(hashOf(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    [
      'flow style, comments, operator spelling and key order',
      doc(
        '# same policy, written differently',
        'rules:',
        '  - metadata: { approver_roles: [finance], required_approvals: 2 }   # approvals',
        '    reason: "Payment of {args.amount}"',
        '    when: { args.amount: { gt: 100 }, args.to: { not: { ends_with: "@acme.com" } } }',
        '    action: escalate',
        '    tool: [payment.send]',
        '    id: big-payments',
        'default: deny',
      ),
    ],
    [
      'JSON',
      JSON.stringify({
        rules: [
          {
            id: 'big-payments',
            tool: 'payment.send',
            action: 'escalate',
            when: { 'args.amount': { gt: 100 }, 'args.to': { not: { ends_with: '@acme.com' } } },
            reason: 'Payment of {args.amount}',
            metadata: { required_approvals: 2, approver_roles: ['finance'], timeout_action: 'deny' },
          },
        ],
      }),
    ],
  ])('is the same across %s', (_name, text) => {
    expect(hashOf(text)).toBe(hashOf(base));
  });

  it('is the same for an explicit default id as for the generated one', () => {
    expect(hashOf('rules: [{ id: rule-1, tool: a, action: deny }]')).toBe(hashOf('rules: [{ tool: a, action: deny }]'));
  });

  it.each([
    ['another action', base.replace('action: escalate', 'action: deny').replace(/ {4}metadata:\n.*\n.*\n/, '')],
    ['another operand', base.replace('gt: 100', 'gt: 101')],
    ['another operator', base.replace('gt: 100', 'gte: 100')],
    ['another reason', base.replace('Payment of', 'Paying')],
    ['another tool', base.replace('tool: payment.send', 'tool: payment.*')],
    ['another id', base.replace('id: big-payments', 'id: payments')],
    ['another approval count', base.replace('required_approvals: 2', 'required_approvals: 1')],
    ['another default', base.replace('default: deny', 'default: allow')],
  ])('changes with %s', (_name, text) => {
    expect(text).not.toBe(base);
    expect(hashOf(text)).not.toBe(hashOf(base));
  });

  it('changes when rules are reordered', () => {
    const first = doc('rules:', '  - { id: a, tool: x, action: allow }', '  - { id: b, tool: x, action: deny }');
    const second = doc('rules:', '  - { id: b, tool: x, action: deny }', '  - { id: a, tool: x, action: allow }');
    expect(hashOf(first)).not.toBe(hashOf(second));
  });
});

// These describe behaviour a policy author needs but the implementation does not give yet; see the report.
describe('error messages a policy author can act on', () => {
  it('explains multiple documents without pointing at a YAML library API', () => {
    const [only, ...rest] = issuesOf(doc('rules: []', '---', 'rules: []'));
    expect(rest).toEqual([]);
    expect(only?.message).toContain('multiple documents');
    expect(only?.message).not.toContain('parseAllDocuments');
  });

  it('reports an unknown operator once, without a spurious "expected at least one operator"', () => {
    expectIssues(whenCase('args.x: { greater: 1 }'), [
      issue(5, 17, `unknown operator 'greater'; expected one of: ${OPERATOR_LIST}`, 'rules[0].when.args.x.greater'),
    ]);
  });

  it('points at the second spelling, in file order, when one operator is written twice', () => {
    expectIssues(whenCase('args.x: { notIn: [a], not_in: [b] }'), [
      issue(5, 29, "'not_in' repeats 'notIn' (two spellings of one operator)", 'rules[0].when.args.x.not_in'),
    ]);
  });

  it('does not suggest args.args… for a malformed path that already starts with args.', () => {
    const [only] = issuesOf(whenCase('args..x: 1'));
    expect(only).toMatchObject({ line: 5, column: 7 });
    expect(only?.message).toContain("unknown condition 'args..x'");
    expect(only?.message).not.toContain("did you mean 'args.args");
  });

  it('rejects an escalate rule that an empty reviewer directory could never approve', () => {
    const issues = issuesOf(doc('rules:', '  - tool: a', '    action: escalate'), { reviewers: [] });
    expect(issues).toEqual([expect.objectContaining({ line: 2, column: 5, message: expect.stringContaining('could never be approved') })]);
  });
});
