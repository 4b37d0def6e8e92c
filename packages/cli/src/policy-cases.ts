import { readFileSync } from 'node:fs';
import { formatPolicyIssue, SignoffError, strictMapping, validateYaml } from '@signoff/core';
import * as z from 'zod';

const Action = z.enum(['allow', 'deny', 'escalate'], { error: 'expected allow, deny or escalate' });

const Expectation = z.union(
  [
    Action,
    strictMapping(
      { action: Action, rule: z.string().nullable().optional(), unknown_path: z.string().nullable().optional() },
      'expectation key',
    ),
  ],
  { error: 'expected an action, or a mapping with action, rule and unknown_path' },
);

const PolicyCase = strictMapping(
  {
    name: z.string().optional(),
    tool: z.string({ error: 'expected a tool name' }),
    args: z.unknown().optional(),
    context: z.record(z.string(), z.unknown(), { error: 'expected a mapping' }).optional(),
    expect: Expectation,
  },
  'case key',
);

const PolicyCasesFile = strictMapping(
  { cases: z.array(PolicyCase, { error: 'expected a list of cases' }).min(1, 'expected at least one case') },
  'top-level key',
);

/** One expected decision: a tool call and what the policy must say about it. */
export interface PolicyCase {
  readonly name: string;
  readonly line: number;
  readonly tool: string;
  readonly args: unknown;
  readonly context: Record<string, unknown> | undefined;
  readonly expect: { action: 'allow' | 'deny' | 'escalate'; rule?: string | null; unknownPath?: string | null };
}

/**
 * Reads a cases file:
 * ```yaml
 * cases:
 *   - name: big payments need approval
 *     tool: payment.send
 *     args: { amount: 500 }
 *     expect: { action: escalate, rule: big-payments }
 *   - tool: shell.exec
 *     expect: deny
 * ```
 */
export function readPolicyCases(file: string): PolicyCase[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SignoffError('INVALID_ARGUMENT', `cannot read cases file ${file}: ${(error as Error).message}`);
  }
  const result = validateYaml(text, PolicyCasesFile, { file });
  if (!result.ok) throw new SignoffError('INVALID_ARGUMENT', result.issues.map(formatPolicyIssue).join('\n'));
  return result.data.cases.map((entry, index) => {
    const expect = typeof entry.expect === 'string' ? { action: entry.expect } : entry.expect;
    return {
      name: entry.name ?? `${entry.tool} ${JSON.stringify(entry.args ?? {})}`,
      line: result.locate(['cases', index]).line,
      tool: entry.tool,
      args: entry.args ?? {},
      context: entry.context,
      expect: {
        action: expect.action,
        ...('rule' in expect ? { rule: expect.rule } : {}),
        ...('unknown_path' in expect ? { unknownPath: expect.unknown_path } : {}),
      },
    };
  });
}
