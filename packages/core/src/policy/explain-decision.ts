import type { Condition } from '../spec/condition.js';
import type { ConditionOperator } from '../spec/condition-operator.js';
import type { DecisionAction } from '../spec/decision-action.js';
import type { Policy } from '../spec/policy.js';
import type { ToolCall } from '../spec/tool-call.js';
import { defaultReason, defaultRuleReason, unknownRuleReason } from './decision-reasons.js';
import { judgeOperator, readPath } from './operator-semantics.js';
import { compileReasonTemplate } from './reason-template.js';
import { compileToolGlob, isToolGlob } from './tool-glob.js';
import { collectHistoryConditions } from './compile-policy.js';
import { describeHistoryCondition, historyLabel, judgeHistoryFact, type HistoryFacts } from './compile-history.js';
import { FALSE, TRUE, type Truth } from './truth.js';

/** The outcome of a condition: `unknown` when a value was missing or of a type its operator cannot judge. */
export type ConditionOutcome = 'true' | 'false' | 'unknown';

/** How one condition node evaluated. */
export interface ConditionTrace {
  readonly kind: Condition['kind'];
  readonly outcome: ConditionOutcome;
  /** For tests: the path, operator, operand and the value found (`undefined` when missing). */
  readonly path?: string;
  readonly operator?: ConditionOperator;
  readonly operand?: unknown;
  readonly value?: unknown;
  /** For all / any / not. */
  readonly children?: readonly ConditionTrace[];
  /** For history conditions (aggregate / after): what was judged, e.g. `sum(args.amount) within 1h per context.agent`. */
  readonly history?: string;
  /** For history conditions: the fact judged (`undefined` when the history was not available). */
  readonly fact?: number | boolean;
}

/** How one rule fared, in file order, up to the rule that decided. */
export interface RuleTrace {
  readonly ruleId: string;
  readonly action: DecisionAction;
  readonly line: number;
  /** Whether the rule's `tool` covers the call. */
  readonly toolMatched: boolean;
  /** `true` when the rule has no `when`. Absent when the tool did not match. */
  readonly outcome?: ConditionOutcome;
  /** Whether this rule decided the call. */
  readonly decided: boolean;
  readonly condition?: ConditionTrace;
  /** For an unknown outcome: the first path that could not be judged. */
  readonly unknownPath?: string;
}

/** A decision with the evaluation that led to it. */
export interface Explanation {
  readonly action: DecisionAction;
  readonly ruleId: string | null;
  readonly unknownPath: string | null;
  readonly reason: string;
  readonly rules: readonly RuleTrace[];
  /** `true` when the deciding rule needs call history that was not given: the control plane decides. */
  readonly needsHistory?: true;
  /**
   * For a policy with shadow rules: what it would decide with them enforced (what the control plane
   * records as the call's shadow decision). Absent when the policy has none.
   */
  readonly shadow?: ShadowOutcome;
}

/**
 * What a policy would decide with its shadow rules enforced.
 *
 * @example
 * const { shadow } = explainDecision(policy, { tool: 'refund_create', args: { amount: 900 } });
 * if (shadow?.byShadowRule) console.log(`shadow rule ${shadow.ruleId} would ${shadow.action}`);
 */
export interface ShadowOutcome {
  readonly action: DecisionAction;
  readonly ruleId: string | null;
  readonly reason: string;
  readonly unknownPath: string | null;
  /** Whether a shadow rule decided (else the decision is the enforced rules' own). */
  readonly byShadowRule: boolean;
  /** `true` when the would-be deciding rule needs call history that was not given. */
  readonly needsHistory?: true;
}

export interface ExplainOptions {
  /**
   * What the control plane found in its call history, indexed like `compilePolicy(policy).historyConditions`.
   * Without it, a rule that depends on history is reported as needing the control plane.
   */
  readonly facts?: HistoryFacts;
}

/**
 * Evaluates a call with a plain tree-walking interpreter that records every step: which rules the
 * tool matched, what each condition found and concluded, and which rule decided. It is the
 * reference the compiled evaluator is tested against, and what `signoff policy explain` prints.
 *
 * @example
 * const explanation = explainDecision(policy, { tool: 'email.send', args: { to: 'x@gmail.com' } });
 * console.log(explanation.action, explanation.ruleId, explanation.rules);
 */
export function explainDecision(policy: Policy, call: ToolCall, options: ExplainOptions = {}): Explanation {
  const explanation = explainEnforced(policy, call, options);
  if (!policy.rules.some((rule) => rule.mode === 'shadow')) return explanation;
  // Shadow rules enforced: the same rules in the same order (so facts keep their indexes), none skipped.
  const shadowed = explainEnforced({ ...policy, rules: policy.rules.map(({ mode: _mode, ...rule }) => rule) }, call, options);
  const byShadowRule = policy.rules.some((rule) => rule.mode === 'shadow' && rule.id === shadowed.ruleId);
  const shadow: ShadowOutcome = {
    action: shadowed.action,
    ruleId: shadowed.ruleId,
    reason: shadowed.reason,
    unknownPath: shadowed.unknownPath,
    byShadowRule,
    ...(shadowed.needsHistory ? { needsHistory: true as const } : {}),
  };
  return { ...explanation, shadow };
}

function explainEnforced(policy: Policy, call: ToolCall, options: ExplainOptions): Explanation {
  const rules: RuleTrace[] = [];
  let skippedUnknownPath: string | null = null;
  const history = collectHistoryConditions(policy);
  const judge = { facts: options.facts, index: new Map<Condition, number>(history.map(({ condition }, index) => [condition, index])) };
  for (const rule of policy.rules) {
    // Shadow rules are recorded, never enforced: they take no part in the decision.
    if (rule.mode === 'shadow') continue;
    const toolMatched = rule.tools.some((pattern) => (isToolGlob(pattern) ? compileToolGlob(pattern).test(call.tool) : pattern === call.tool));
    const base = { ruleId: rule.id, action: rule.action, line: rule.location.line, toolMatched };
    if (!toolMatched) {
      rules.push({ ...base, decided: false });
      continue;
    }
    const trace = rule.condition ? traceCondition(rule.condition, call, judge) : undefined;
    const outcome = trace?.outcome ?? 'true';
    const unknownPath = trace && outcome === 'unknown' ? firstUnknownPath(trace) : undefined;
    const historyEntry = history.find((entry) => entry.rule === rule);
    if (outcome === 'unknown' && historyEntry && options.facts === undefined && trace && touchesHistory(trace)) {
      // The history was not given: whatever the rule's action, the control plane decides.
      const label = historyLabel(historyEntry.condition);
      rules.push({ ...base, outcome, decided: true, ...(trace ? { condition: trace } : {}), unknownPath: label });
      const reason = `Rule '${rule.id}' depends on the call history (${label}): the control plane decides`;
      return { action: 'escalate', ruleId: rule.id, unknownPath: label, reason, rules, needsHistory: true };
    }
    const decided = outcome === 'true' || (outcome === 'unknown' && rule.action !== 'allow');
    rules.push({ ...base, outcome, decided, ...(trace ? { condition: trace } : {}), ...(unknownPath ? { unknownPath } : {}) });
    if (decided) {
      const template = rule.reason ?? defaultRuleReason(rule.action, rule.id);
      const reason = compileReasonTemplate(unknownPath ? unknownRuleReason(template, rule.action, unknownPath) : template);
      return { action: rule.action, ruleId: rule.id, unknownPath: unknownPath ?? null, reason: reason(call.args, call.context), rules };
    }
    if (unknownPath && skippedUnknownPath === null) skippedUnknownPath = unknownPath;
  }
  const action = policy.defaultAction;
  return {
    action,
    ruleId: null,
    unknownPath: skippedUnknownPath,
    reason: defaultReason(action, skippedUnknownPath),
    rules,
  };
}

interface HistoryJudge {
  readonly facts: HistoryFacts | undefined;
  readonly index: ReadonlyMap<Condition, number>;
}

function traceCondition(condition: Condition, call: ToolCall, judge: HistoryJudge): ConditionTrace {
  switch (condition.kind) {
    case 'aggregate':
    case 'after': {
      const fact = judge.facts?.[judge.index.get(condition) as number];
      const truth = judgeHistoryFact(condition, fact);
      return { kind: condition.kind, outcome: outcomeOf(truth), path: historyLabel(condition), history: describeHistoryCondition(condition), ...(fact === undefined ? {} : { fact }) };
    }
    case 'test': {
      const [root, ...segments] = condition.path.split('.');
      const value = readPath(root === 'args' ? call.args : call.context, segments);
      const truth = judgeOperator(condition.operator, value, condition.operand);
      return { kind: 'test', outcome: outcomeOf(truth), path: condition.path, operator: condition.operator, operand: condition.operand, value };
    }
    case 'not': {
      const child = traceCondition(condition.condition, call, judge);
      const outcome = child.outcome === 'unknown' ? 'unknown' : child.outcome === 'true' ? 'false' : 'true';
      return { kind: 'not', outcome, children: [child] };
    }
    case 'all':
    case 'any': {
      const children = condition.conditions.map((child) => traceCondition(child, call, judge));
      const outcomes = children.map((child) => child.outcome);
      const decisive = condition.kind === 'all' ? 'false' : 'true';
      const outcome = outcomes.includes(decisive)
        ? decisive
        : outcomes.includes('unknown')
          ? 'unknown'
          : condition.kind === 'all'
            ? 'true'
            : 'false';
      return { kind: condition.kind, outcome, children };
    }
  }
}

/**
 * Whether evaluating the node in order, stopping where the compiled evaluator stops (`all` at the
 * first false child, `any` at the first true one), meets a history condition that could not be judged.
 */
function touchesHistory(trace: ConditionTrace): boolean {
  if (trace.kind === 'aggregate' || trace.kind === 'after') return trace.outcome === 'unknown';
  if (trace.kind === 'test') return false;
  let touched = false;
  for (const child of trace.children ?? []) {
    touched ||= touchesHistory(child);
    if ((trace.kind === 'all' && child.outcome === 'false') || (trace.kind === 'any' && child.outcome === 'true')) break;
  }
  return touched;
}

/** The first test (in file order) whose unknown outcome made this node unknown. */
function firstUnknownPath(trace: ConditionTrace): string | undefined {
  if (trace.outcome !== 'unknown') return undefined;
  if (trace.kind === 'test' || trace.kind === 'aggregate' || trace.kind === 'after') return trace.path;
  for (const child of trace.children ?? []) {
    const path = firstUnknownPath(child);
    if (path) return path;
  }
  return undefined;
}

function outcomeOf(truth: Truth): ConditionOutcome {
  return truth === TRUE ? 'true' : truth === FALSE ? 'false' : 'unknown';
}
