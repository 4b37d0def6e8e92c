import type { YamlIssue } from '../yaml/validate-yaml.js';
import { SignoffError } from './signoff-error.js';

const marker = Symbol.for('signoff.error.policy');

/** One problem found in a policy file: file, line, column, path and what was expected. */
export type PolicyIssue = YamlIssue;

/**
 * A policy that failed to load. It carries every issue found (not just the first); `file`, `line`
 * and `column` point at the first one. A policy that throws this never half-loads.
 *
 * @example
 * try { parsePolicy(text, { file: 'policy.yaml' }); } catch (error) {
 *   if (PolicyError.isInstance(error)) for (const issue of error.issues) console.error(formatPolicyIssue(issue));
 * }
 */
export class PolicyError extends SignoffError {
  readonly [marker] = true;
  readonly issues: readonly PolicyIssue[];
  readonly file: string;
  readonly line: number;
  readonly column: number;

  constructor(issues: readonly PolicyIssue[]) {
    const first = issues[0] ?? { file: '<inline>', line: 1, column: 1, path: '', message: 'invalid policy' };
    super('POLICY_INVALID', issues.map(formatPolicyIssue).join('\n'));
    this.name = 'PolicyError';
    this.issues = issues;
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
  }

  static override isInstance(error: unknown): error is PolicyError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}

/**
 * Formats an issue the way compilers do: `file:line:column: message`.
 *
 * @example
 * formatPolicyIssue({ file: 'p.yaml', line: 3, column: 5, path: 'rules[0]', message: 'x' }); // "p.yaml:3:5: x"
 */
export function formatPolicyIssue(issue: PolicyIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.message}`;
}
