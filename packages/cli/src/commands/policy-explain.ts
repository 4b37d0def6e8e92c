import { explainDecision, type ConditionTrace, type Policy } from '@signoff/core';
import { UsageError, type CliIo } from '../cli-io.js';
import { parseCommand, parseJsonFlag } from '../parse-command.js';
import { readPolicyFile } from '../read-policy-file.js';

/** `signoff policy explain <policy.yaml> --tool T [--args JSON] [--context JSON] [--json]`. */
export function policyExplain(argv: readonly string[], io: CliIo): number {
  const { values, positionals } = parseCommand(
    argv,
    { tool: { type: 'string' }, args: { type: 'string' }, context: { type: 'string' }, json: { type: 'boolean' } },
    ['policy.yaml'],
  );
  const tool = values.tool as string | undefined;
  if (tool === undefined) throw new UsageError('--tool is required');
  const context = parseJsonFlag('context', values.context as string | undefined, undefined);
  if (context !== undefined && (context === null || typeof context !== 'object' || Array.isArray(context))) {
    throw new UsageError('--context must be a JSON object');
  }
  const policy = readPolicyFile(positionals[0] as string);
  const call = { tool, args: parseJsonFlag('args', values.args as string | undefined, {}), context: context as Record<string, unknown> | undefined };
  const explanation = explainDecision(policy, call);
  if (values.json) {
    io.out(JSON.stringify(explanation, null, 2));
    return 0;
  }

  const decidingRule = policy.rules.find((rule) => rule.id === explanation.ruleId);
  io.out(`${explanation.action.toUpperCase()} ${decidingRule ? `by rule '${decidingRule.id}' (line ${decidingRule.location.line})` : 'by the policy default'}`);
  io.out(`reason: ${explanation.reason}`);
  if (explanation.unknownPath) io.out(`unknown: ${explanation.unknownPath} (missing or not judgeable; fail-closed)`);
  if (explanation.action === 'escalate') io.out(`approval: ${describeApproval(decidingRule?.approval ?? undefined)}`);
  const { shadow } = explanation;
  if (shadow) {
    const by = shadow.ruleId === null ? 'by the policy default' : `by ${shadow.byShadowRule ? 'shadow ' : ''}rule '${shadow.ruleId}'`;
    const same = shadow.action === explanation.action && shadow.ruleId === explanation.ruleId;
    io.out(`shadow: would ${shadow.action.toUpperCase()} ${by}${same ? ' (the same)' : ''} — recorded, not enforced; reason: ${shadow.reason}`);
  }
  io.out('');
  io.out('rules tried, in order:');
  for (const rule of explanation.rules) {
    if (!rule.toolMatched) {
      io.out(`  · ${rule.ruleId} (line ${rule.line}, ${rule.action}): tool does not match`);
      continue;
    }
    const verdict = rule.decided ? 'DECIDED' : rule.outcome === 'unknown' ? 'skipped (an allow rule never matches on unknown)' : 'no match';
    io.out(`  ${rule.decided ? '→' : '·'} ${rule.ruleId} (line ${rule.line}, ${rule.action}): ${rule.condition ? `conditions ${rule.outcome}` : 'no conditions'} — ${verdict}`);
    if (rule.condition) printCondition(rule.condition, '      ', io);
  }
  if (explanation.ruleId === null) io.out(`  → default: ${policy.defaultAction}`);
  return 0;
}

function printCondition(trace: ConditionTrace, indent: string, io: CliIo): void {
  if (trace.kind === 'test') {
    const found = trace.value === undefined ? 'missing' : `found ${JSON.stringify(trace.value)}`;
    io.out(`${indent}${trace.path} ${trace.operator} ${JSON.stringify(trace.operand)}: ${found} → ${trace.outcome}`);
    return;
  }
  if (trace.kind === 'aggregate' || trace.kind === 'after') {
    const found = trace.fact === undefined ? 'history not available here (the control plane decides)' : `found ${JSON.stringify(trace.fact)}`;
    io.out(`${indent}${trace.history}: ${found} → ${trace.outcome}`);
    return;
  }
  io.out(`${indent}${trace.kind}${trace.kind === 'not' ? '' : ' of'} → ${trace.outcome}`);
  for (const child of trace.children ?? []) printCondition(child, `${indent}  `, io);
}

function describeApproval(approval: Policy['rules'][number]['approval'] | undefined): string {
  if (!approval) return '1 approval from any reviewer; server default timeout, then deny';
  const roles = approval.approverRoles.length > 0 ? approval.approverRoles.join(', ') : 'any reviewer';
  const timeout = approval.timeoutMs === undefined ? 'server default timeout' : `timeout ${approval.timeoutMs / 60_000} min`;
  return `${approval.requiredApprovals} approval${approval.requiredApprovals === 1 ? '' : 's'} from ${roles}; ${timeout}, then ${approval.timeoutAction}`;
}
