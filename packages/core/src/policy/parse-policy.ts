import { canonicalJson } from '../canonical-json.js';
import { PolicyError } from '../errors/policy-error.js';
import { sha256Hex } from '../hash-args.js';
import type { ApprovalRequirements } from '../spec/approval-requirements.js';
import type { Condition } from '../spec/condition.js';
import type { ConditionOperator } from '../spec/condition-operator.js';
import type { Policy } from '../spec/policy.js';
import type { PolicyRule } from '../spec/policy-rule.js';
import { validateYaml, type UnlocatedIssue, type YamlPath } from '../yaml/validate-yaml.js';
import { parseAggregateKey, parseDuration } from './history-syntax.js';
import { OPERATOR_SPELLINGS, PolicyDocumentSchema, type RuleDocument } from './policy-schema.js';

/** A reviewer as far as policy validation cares: who they are and which roles they hold. */
export interface PolicyReviewer {
  readonly id: string;
  readonly roles: readonly string[];
}

export interface ParsePolicyOptions {
  /** Named in every error and in `policy.file`; defaults to `<inline>`. */
  readonly file?: string;
  /**
   * The reviewers who exist (the control plane passes its directory). When given, a rule that
   * requires more approvals than its eligible reviewers can give, or a role nobody holds, is an error.
   */
  readonly reviewers?: readonly PolicyReviewer[];
}

/**
 * Parses and validates a policy from YAML (or JSON) text. Every problem is collected and thrown
 * together as one {@link PolicyError} whose issues name file, line, column and what was expected;
 * a policy that does not validate never half-loads.
 *
 * @example
 * const policy = parsePolicy(`
 * version: 1
 * default: deny
 * rules:
 *   - tool: payment.send
 *     action: escalate
 *     when: { args.amount: { gt: 100 } }
 * `, { file: 'policy.yaml' });
 */
export function parsePolicy(text: string, options: ParsePolicyOptions = {}): Policy {
  const file = options.file ?? '<inline>';
  const result = validateYaml(text, PolicyDocumentSchema, { file, check: (data) => semanticIssues(data, options.reviewers) });
  if (!result.ok) throw new PolicyError(result.issues);

  const rules = result.data.rules.map((rule, index): PolicyRule => ({
    id: rule.id ?? defaultRuleId(index),
    index,
    tools: typeof rule.tool === 'string' ? [rule.tool] : rule.tool,
    action: rule.action,
    condition: rule.when ? normalizeWhen(rule.when) : null,
    reason: rule.reason,
    approval: rule.action === 'escalate' ? approvalRequirements(rule) : null,
    location: { file, ...result.locate(['rules', index]) },
    // Only when shadow, so enforced rules keep the hash they always had.
    ...((rule.mode ?? result.data.mode) === 'shadow' ? { mode: 'shadow' as const } : {}),
  }));
  const defaultAction = result.data.default ?? 'deny';
  const semantic = rules.map(({ location: _location, index: _index, ...meaning }) => meaning);
  return deepFreeze({
    file,
    hash: sha256Hex(canonicalJson({ default: defaultAction, rules: semantic })),
    defaultAction,
    hasExplicitDefault: result.data.default !== undefined,
    rules,
  });
}

/** The id a rule gets when the file gives none: `rule-<1-based position>`. */
export function defaultRuleId(index: number): string {
  return `rule-${index + 1}`;
}

function approvalRequirements(rule: RuleDocument): ApprovalRequirements {
  const metadata = rule.metadata ?? {};
  const minutes = metadata.approval_timeout_minutes;
  const grantMinutes = metadata.grant_ttl_minutes;
  return {
    requiredApprovals: metadata.required_approvals ?? 1,
    approverRoles: metadata.approver_roles ?? [],
    timeoutMs: minutes === undefined ? undefined : Math.round(minutes * 60_000),
    timeoutAction: metadata.timeout_action ?? 'deny',
    // Only when set, so policies without it keep their hash.
    ...(grantMinutes === undefined ? {} : { grantTtlMs: Math.round(grantMinutes * 60_000) }),
  };
}

function normalizeWhen(when: Record<string, unknown>): Condition | null {
  const window = when.window as { within: string; per?: string[] } | undefined;
  const conditions = Object.entries(when).flatMap(([key, value]): Condition[] => {
    if (key === 'window') return [];
    if (key === 'after' || key === 'not_after') {
      const after = value as { tool: string | string[]; within: string; per?: string[] };
      const condition: Condition = { kind: 'after', tools: typeof after.tool === 'string' ? [after.tool] : after.tool, window: { withinMs: parseDuration(after.within) as number, per: after.per ?? [] } };
      // `not_after` is `not` over `after`: three-valued like every `not`, so unreadable history stays unknown.
      return [key === 'after' ? condition : { kind: 'not', condition }];
    }
    const aggregate = parseAggregateKey(key);
    if (aggregate && window) {
      const tests = Object.entries(value as Record<string, number>).map(([operator, operand]) => ({ operator: operator as 'gt', operand }));
      return [
        {
          kind: 'aggregate',
          aggregate: aggregate.aggregate as 'count',
          path: aggregate.path,
          window: { withinMs: parseDuration(window.within) as number, per: window.per ?? [] },
          tests,
        },
      ];
    }
    return [normalizeEntry(key, value)];
  });
  return conditions.length === 0 ? null : combine('all', conditions);
}

function normalizeEntry(key: string, value: unknown): Condition {
  if (key === 'any' || key === 'all') {
    const children = (value as Record<string, unknown>[]).map((child) => normalizeWhen(child) ?? ALWAYS);
    return combine(key, children);
  }
  return normalizeOperand(key, value);
}

/** An empty `when` map inside any/all: always true. */
const ALWAYS: Condition = { kind: 'all', conditions: [] };

function normalizeOperand(path: string, value: unknown): Condition {
  if (value === null || typeof value !== 'object') return { kind: 'test', path, operator: 'eq', operand: value };
  const tests = Object.entries(value as Record<string, unknown>).map(([spelling, operand]): Condition => {
    const operator = OPERATOR_SPELLINGS[spelling as keyof typeof OPERATOR_SPELLINGS];
    if (operator === 'not') return { kind: 'not', condition: normalizeOperand(path, operand) };
    return { kind: 'test', path, operator: operator as ConditionOperator, operand };
  });
  return combine('all', tests);
}

function combine(kind: 'all' | 'any', conditions: Condition[]): Condition {
  return conditions.length === 1 ? (conditions[0] as Condition) : { kind, conditions };
}

/** Checks zod cannot express: unique ids, metadata only on escalations, reviewers who can approve. */
function semanticIssues(data: unknown, reviewers: readonly PolicyReviewer[] | undefined): UnlocatedIssue[] {
  const rules = isRecord(data) && Array.isArray(data.rules) ? data.rules : [];
  const issues: UnlocatedIssue[] = [];
  const seenIds = new Map<string, number>();
  rules.forEach((rule: unknown, index) => {
    if (!isRecord(rule)) return;
    const id = typeof rule.id === 'string' ? rule.id : defaultRuleId(index);
    const earlier = seenIds.get(id);
    if (earlier !== undefined) {
      issues.push({
        path: ['rules', index, ...(rule.id === undefined ? [] : ['id'])],
        message: `duplicate rule id '${id}' (also rule ${earlier + 1}); ids must be unique`,
      });
    } else seenIds.set(id, index);

    const action = rule.action;
    if (isRecord(rule.metadata) && (action === 'allow' || action === 'deny')) {
      issues.push({
        path: ['rules', index, 'metadata'],
        atKey: true,
        message: `metadata (approvals, timeout) applies only to escalate rules; this rule's action is ${action}`,
      });
    }
    if (reviewers && action === 'escalate') {
      const metadata = isRecord(rule.metadata) ? rule.metadata : {};
      issues.push(...reviewerIssues(metadata, ['rules', index, ...(isRecord(rule.metadata) ? ['metadata'] : [])], reviewers));
    }
  });
  if (reviewers && isRecord(data) && data.default === 'escalate') issues.push(...reviewerIssues({}, ['default'], reviewers));
  return issues;
}

function reviewerIssues(
  metadata: Record<string, unknown>,
  path: YamlPath,
  reviewers: readonly PolicyReviewer[],
): UnlocatedIssue[] {
  const roles = Array.isArray(metadata.approver_roles) ? metadata.approver_roles.filter((role) => typeof role === 'string') : [];
  const required = typeof metadata.required_approvals === 'number' ? metadata.required_approvals : 1;
  const issues: UnlocatedIssue[] = [];
  for (const role of roles) {
    if (!reviewers.some((reviewer) => reviewer.roles.includes(role))) {
      issues.push({ path: [...path, 'approver_roles'], message: `no reviewer holds role '${role}'` });
    }
  }
  const eligible = reviewers.filter(
    (reviewer) => roles.length === 0 || reviewer.roles.some((role) => roles.includes(role)),
  ).length;
  if (required > eligible) {
    const who = roles.length === 0 ? (eligible === 1 ? 'exists' : 'exist') : `${eligible === 1 ? 'holds' : 'hold'} ${roles.join(' or ')}`;
    issues.push({
      path: path.at(-1) === 'metadata' ? [...path, 'required_approvals'] : path,
      message: `requires ${plural(required, 'approval')} but only ${plural(eligible, 'reviewer')} ${who}; it could never be approved`,
    });
  }
  return issues;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
