import { formatDuration, lintPolicy } from '@signoff/core';
import { historyRetentionOf } from '@signoff/server';
import type { CliIo } from '../cli-io.js';
import { parseCommand } from '../parse-command.js';
import { readPolicyFile } from '../read-policy-file.js';

/**
 * `signoff policy check <policy.yaml> [--config signoff.yaml] [--strict]`: validate, summarize,
 * lint. With `--config`, windows are checked against that server's `call_history.retention`.
 */
export function policyCheck(argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseCommand(argv, { strict: { type: 'boolean' }, config: { type: 'string' } }, ['policy.yaml']);
  const historyRetentionMs = typeof values.config === 'string' ? historyRetentionOf(values.config) : undefined;
  const policy = readPolicyFile(positionals[0] as string);
  const counts = (['allow', 'deny', 'escalate'] as const)
    .map((action) => `${policy.rules.filter((rule) => rule.action === action).length} ${action}`)
    .join(', ');
  io.out(`${policy.file}: valid — ${policy.rules.length} rules (${counts}), default ${policy.defaultAction}, hash ${policy.hash.slice(0, 12)}`);
  if (historyRetentionMs !== undefined) {
    io.out(`call history kept ${formatDuration(historyRetentionMs)} (call_history.retention in ${values.config})`);
  }
  const warnings = lintPolicy(policy, historyRetentionMs === undefined ? {} : { historyRetentionMs });
  for (const warning of warnings) {
    io.out(`${warning.file}:${warning.line}:${warning.column}: warning: ${warning.message} [${warning.code}]`);
  }
  if (warnings.length > 0) io.out(`${warnings.length} warning${warnings.length === 1 ? '' : 's'}`);
  return values.strict && warnings.length > 0 ? 1 : 0;
}
