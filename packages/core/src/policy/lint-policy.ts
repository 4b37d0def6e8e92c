import type { Condition } from '../spec/condition.js';
import type { Policy } from '../spec/policy.js';
import type { PolicyRule } from '../spec/policy-rule.js';
import { collectHistoryConditions } from './compile-policy.js';
import { DEFAULT_HISTORY_RETENTION_MS, formatDuration } from './history-syntax.js';
import { historyLabel } from './compile-history.js';
import { deepEqual } from './operator-semantics.js';
import { compileToolGlob, isToolGlob } from './tool-glob.js';

/** What kind of problem a lint warning reports. */
export type LintCode =
  | 'missing-default'
  | 'default-allow'
  | 'timeout-allow'
  | 'shadowed-rule'
  | 'unsatisfiable-rule'
  /** A history window longer than the control plane keeps calls: older calls are gone, so it under-counts. */
  | 'window-exceeds-retention'
  /** A `per` path that no rule tests: calls often lack it, and a call without it is unknown for the rule. */
  | 'per-path-untested'
  /** A shadow rule that an earlier enforced rule always decides before it: it never records anything. */
  | 'shadow-rule-shadowed';

export interface LintOptions {
  /** How long the control plane keeps call history (`call_history.retention`); default 7 days. */
  readonly historyRetentionMs?: number;
}

/** A policy that loads but probably does not do what its author meant. */
export interface LintWarning {
  readonly code: LintCode;
  readonly message: string;
  /** The rule concerned, or `null` for the policy as a whole. */
  readonly ruleId: string | null;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * Reports rules that can never decide anything (shadowed by an earlier rule, or with
 * contradictory conditions), fail-open settings (`timeout_action: allow`, `default: allow`) and a
 * missing `default`. Shadowing is checked conservatively: a warning is always real.
 *
 * @example
 * for (const warning of lintPolicy(loadPolicy('policy.yaml'))) {
 *   console.warn(`${warning.file}:${warning.line}:${warning.column}: ${warning.message}`);
 * }
 */
export function lintPolicy(policy: Policy, options: LintOptions = {}): LintWarning[] {
  const warnings: LintWarning[] = [];
  const top = { ruleId: null, file: policy.file, line: 1, column: 1 };
  if (!policy.hasExplicitDefault) {
    warnings.push({ ...top, code: 'missing-default', message: 'no `default`: calls no rule matches are denied; write `default: deny` to say so' });
  } else if (policy.defaultAction === 'allow') {
    warnings.push({ ...top, code: 'default-allow', message: '`default: allow` runs every tool no rule names, including ones added later; prefer `default: deny`' });
  }
  policy.rules.forEach((rule, index) => {
    const at = { ruleId: rule.id, file: rule.location.file, line: rule.location.line, column: rule.location.column };
    if (rule.approval?.timeoutAction === 'allow') {
      warnings.push({ ...at, code: 'timeout-allow', message: `rule '${rule.id}' has timeout_action: allow, so a request nobody answers runs anyway (fail-open)` });
    }
    // A shadow rule decides nothing, so it shadows only other shadow rules (in the view that enforces them).
    const shadow = policy.rules.slice(0, index).find((earlier) => (earlier.mode !== 'shadow' || rule.mode === 'shadow') && shadows(earlier, rule));
    if (shadow && rule.mode === 'shadow' && shadow.mode !== 'shadow') {
      warnings.push({
        ...at,
        code: 'shadow-rule-shadowed',
        message: `shadow rule '${rule.id}' never records anything: enforced rule '${shadow.id}' (line ${shadow.location.line}) comes first and decides every call it would; move it up`,
      });
    } else if (shadow) {
      warnings.push({
        ...at,
        code: 'shadowed-rule',
        message: `rule '${rule.id}' can never match: rule '${shadow.id}' (line ${shadow.location.line}) comes first and matches every call it would`,
      });
    }
    const contradiction = rule.condition ? findContradiction(rule.condition) : undefined;
    if (contradiction) {
      const stillApplies = rule.action === 'allow' ? '' : ` (it still applies when ${contradiction.path} is missing or not judgeable: unknown fails closed)`;
      warnings.push({
        ...at,
        code: 'unsatisfiable-rule',
        message: `rule '${rule.id}' can never match: ${contradiction.why}${stillApplies}`,
      });
    }
  });
  warnings.push(...historyWarnings(policy, options.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS));
  return warnings;
}

/** Windows the retention cannot serve, and `per` paths no rule ever tests. */
function historyWarnings(policy: Policy, retentionMs: number): LintWarning[] {
  const warnings: LintWarning[] = [];
  const tested = new Set<string>();
  const visit = (condition: Condition): void => {
    if (condition.kind === 'test') tested.add(condition.path);
    else if (condition.kind === 'not') visit(condition.condition);
    else if (condition.kind === 'all' || condition.kind === 'any') condition.conditions.forEach(visit);
  };
  for (const rule of policy.rules) if (rule.condition) visit(rule.condition);
  const reported = new Set<string>();
  for (const { condition, rule } of collectHistoryConditions(policy)) {
    const at = { ruleId: rule.id, file: rule.location.file, line: rule.location.line, column: rule.location.column };
    if (condition.window.withinMs > retentionMs) {
      warnings.push({
        ...at,
        code: 'window-exceeds-retention',
        message: `rule '${rule.id}': ${historyLabel(condition)} looks back ${formatDuration(condition.window.withinMs)} but the control plane keeps calls for ${formatDuration(retentionMs)}, so older calls are not counted; raise call_history.retention`,
      });
    }
    for (const path of condition.window.per) {
      if (tested.has(path) || reported.has(`${rule.id} ${path}`)) continue;
      reported.add(`${rule.id} ${path}`);
      warnings.push({
        ...at,
        code: 'per-path-untested',
        message: `rule '${rule.id}': per path ${path} is tested by no rule, so nothing checks calls carry it; a call without it is unknown here (${rule.action === 'allow' ? 'this allow rule is skipped' : `this ${rule.action} rule applies`}); add ${path}: { exists: true } to an earlier deny rule if it must be present`,
      });
    }
  }
  return warnings;
}

/** Whether `earlier` matches every call `later` would, so `later` is unreachable. */
function shadows(earlier: PolicyRule, later: PolicyRule): boolean {
  if (!later.tools.every((tool) => earlier.tools.some((pattern) => toolPatternCovers(pattern, tool)))) return false;
  if (earlier.condition === null) return true;
  if (later.condition === null) return false;
  const required = conjuncts(earlier.condition);
  const present = conjuncts(later.condition);
  if (!required.every((condition) => present.some((other) => deepEqual(condition, other)))) return false;
  // With unknown values an allow rule is skipped while a deny/escalate rule after it still applies.
  return earlier.action !== 'allow' || later.action === 'allow';
}

function toolPatternCovers(pattern: string, tool: string): boolean {
  if (pattern === tool || pattern === '**') return true;
  if (!isToolGlob(pattern)) return false;
  if (!isToolGlob(tool)) return compileToolGlob(pattern).test(tool);
  // A glob covers a glob only in the plain `prefix.**` case; anything cleverer is not worth the risk of a false warning.
  const prefix = pattern.endsWith('.**') ? pattern.slice(0, -3) : undefined;
  return prefix !== undefined && !isToolGlob(prefix) && tool.startsWith(`${prefix}.`);
}

function conjuncts(condition: Condition): readonly Condition[] {
  return condition.kind === 'all' ? condition.conditions : [condition];
}

/** Whether a test can never be true when the value is missing or null (`exists: false` allows both). */
function cannotHoldForNull(test: Condition & { kind: 'test' }): boolean {
  switch (test.operator) {
    case 'eq':
      return test.operand !== null;
    case 'ne':
      return test.operand === null;
    case 'in':
      return !(test.operand as unknown[]).includes(null);
    case 'not_in':
      return (test.operand as unknown[]).includes(null);
    case 'exists':
      return test.operand === true;
    default:
      return true; // numbers, strings, patterns: never true for null
  }
}

/** Two tests on one path, in one AND, that no value satisfies. */
function findContradiction(condition: Condition): { path: string; why: string } | undefined {
  const byPath = new Map<string, Array<Condition & { kind: 'test' }>>();
  for (const part of conjuncts(condition)) {
    if (part.kind === 'test') byPath.set(part.path, [...(byPath.get(part.path) ?? []), part]);
    else if (part.kind === 'all' || part.kind === 'any') {
      const nested = part.kind === 'all' ? findContradiction(part) : undefined;
      if (nested) return nested;
    }
  }
  for (const [path, tests] of byPath) {
    if (tests.some((test) => test.operator === 'in' && (test.operand as unknown[]).length === 0)) {
      return { path, why: `${path} is never in an empty list` };
    }
    const absent = tests.some((test) => test.operator === 'exists' && test.operand === false);
    if (absent && tests.some(cannotHoldForNull)) {
      return { path, why: `${path} must be absent (or null) and also hold a value` };
    }
    let low = -Infinity;
    let high = Infinity;
    let lowOpen = false;
    let highOpen = false;
    for (const { operator, operand } of tests) {
      if (typeof operand !== 'number') continue;
      if ((operator === 'gt' || operator === 'gte' || operator === 'eq') && (operand > low || (operand === low && operator === 'gt'))) {
        low = operand;
        lowOpen = operator === 'gt';
      }
      if ((operator === 'lt' || operator === 'lte' || operator === 'eq') && (operand < high || (operand === high && operator === 'lt'))) {
        high = operand;
        highOpen = operator === 'lt';
      }
    }
    if (low > high || (low === high && (lowOpen || highOpen))) {
      return { path, why: `no number is ${lowOpen ? '>' : '>='} ${low} and ${highOpen ? '<' : '<='} ${high} for ${path}` };
    }
  }
  return undefined;
}
