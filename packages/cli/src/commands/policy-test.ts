import { compilePolicy, type PolicyMatch } from '@signoff/core';
import type { CliIo } from '../cli-io.js';
import { parseCommand } from '../parse-command.js';
import { readPolicyCases, type PolicyCase } from '../policy-cases.js';
import { readPolicyFile } from '../read-policy-file.js';

/** `signoff policy test <policy.yaml> <cases.yaml>`: every case's expected decision must hold. */
export function policyTest(argv: readonly string[], io: CliIo): number {
  const { positionals } = parseCommand(argv, {}, ['policy.yaml', 'cases.yaml']);
  const policy = readPolicyFile(positionals[0] as string);
  const cases = readPolicyCases(positionals[1] as string);
  const compiled = compilePolicy(policy);
  let failed = 0;
  for (const testCase of cases) {
    const match = compiled.evaluate(testCase.tool, testCase.args, testCase.context);
    const mismatch = describeMismatch(testCase, match);
    if (mismatch === undefined) {
      io.out(`✓ ${testCase.name}`);
      continue;
    }
    failed += 1;
    const rule = policy.rules.find((candidate) => candidate.id === match.ruleId);
    io.out(`✗ ${testCase.name} (${positionals[1]}:${testCase.line})`);
    io.out(`    expected: ${mismatch.expected}`);
    io.out(`    got:      ${mismatch.got}`);
    io.out(`    decided by: ${rule ? `rule '${rule.id}' (${rule.location.file}:${rule.location.line})` : 'the policy default'}`);
    io.out(`    reason:   ${compiled.renderReason(match, testCase.args, testCase.context)}`);
  }
  io.out(`${cases.length - failed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

function describeMismatch(testCase: PolicyCase, match: PolicyMatch): { expected: string; got: string } | undefined {
  const { expect } = testCase;
  const got = `${match.action}${match.ruleId ? ` (rule '${match.ruleId}')` : ' (default)'}${match.unknownPath ? ` [unknown ${match.unknownPath}]` : ''}`;
  if (expect.action !== match.action) return { expected: expect.action, got };
  if (expect.rule !== undefined && expect.rule !== match.ruleId) {
    return { expected: `${expect.action} by ${expect.rule === null ? 'the default' : `rule '${expect.rule}'`}`, got };
  }
  if (expect.unknownPath !== undefined && expect.unknownPath !== match.unknownPath) {
    return { expected: `${expect.action} with unknown path ${expect.unknownPath ?? 'none'}`, got };
  }
  return undefined;
}
