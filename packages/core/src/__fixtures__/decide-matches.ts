// Run as a child process by match-pattern.test.ts: decides one call against a one-rule policy whose
// rule tests `args.v` with `matches`, through the compiled evaluator and the reference interpreter.
// It prints `ready` once the policy is loaded, then one JSON line with both answers; the test kills
// it if that line is late, so an evaluation that hangs cannot hang the test run.
import { compilePolicy } from '../policy/compile-policy.js';
import { explainDecision } from '../policy/explain-decision.js';
import { parsePolicy } from '../policy/parse-policy.js';

/** What to decide: `value` is `head`, then `unit` repeated `times`, then `tail`. */
export interface MatchesCase {
  readonly pattern: string;
  readonly head?: string;
  readonly unit: string;
  readonly times: number;
  readonly tail?: string;
}

const spec = JSON.parse(process.argv[2] as string) as MatchesCase;
const value = `${spec.head ?? ''}${spec.unit.repeat(spec.times)}${spec.tail ?? ''}`;
const policy = parsePolicy(
  ['default: allow', 'rules:', '  - id: pattern', '    tool: t', '    action: deny', `    when: { args.v: { matches: ${JSON.stringify(spec.pattern)} } }`, ''].join('\n'),
);
const compiled = compilePolicy(policy);
process.stdout.write('ready\n');

const matchedCompiled = compiled.evaluate('t', { v: value }).ruleId === 'pattern';
const matchedExplained = explainDecision(policy, { tool: 't', args: { v: value } }).ruleId === 'pattern';
process.stdout.write(`${JSON.stringify({ length: value.length, compiled: matchedCompiled, explained: matchedExplained })}\n`);
