import type { ApprovalRequirements } from '../spec/approval-requirements.js';
import type { Condition } from '../spec/condition.js';
import type { DecisionAction } from '../spec/decision-action.js';
import type { Policy } from '../spec/policy.js';
import type { PolicyMatch } from '../spec/policy-match.js';
import type { PolicyRule } from '../spec/policy-rule.js';
import { defaultReason, defaultRuleReason, unknownRuleReason } from './decision-reasons.js';
import { compileTest, numericTestOf, type Evaluator, type UnknownPathSlot } from './compile-test.js';
import { compileHistory, historyLabel, type HistoryCondition, type HistoryFacts, type HistorySlot } from './compile-history.js';
import { compileReasonTemplate, type ReasonRenderer } from './reason-template.js';
import { compileToolGlob, isToolGlob } from './tool-glob.js';
import { FALSE, TRUE, UNKNOWN } from './truth.js';

/** A policy compiled for evaluation. */
export interface CompiledPolicy {
  /** The policy it was compiled from. */
  readonly policy: Policy;
  /**
   * Decides a call: the first matching rule wins, else the default. Pure and allocation-free (but
   * for a `matches` test: the RE2 engine makes a few short-lived objects per search): the result is
   * a precomputed frozen object; an unknown condition fails closed (see {@link PolicyMatch}).
   */
  evaluate(tool: string, args: unknown, context?: unknown): PolicyMatch;
  /** Renders a match's reason template with the call's args and context. */
  renderReason(match: PolicyMatch, args: unknown, context: unknown): string;
  /**
   * Every history condition (`window` aggregates, `after:`) of the policy, shadow rules included,
   * with the rule it belongs to; {@link HistoryFacts} are indexed like this list. Empty for a
   * policy that judges each call alone.
   */
  readonly historyConditions: readonly { readonly condition: HistoryCondition; readonly rule: PolicyRule }[];
  /**
   * Whether calls must be recorded for this policy to work: it has history conditions or shadow
   * rules. When `false`, nothing is recorded or sent.
   */
  readonly recordsCalls: boolean;
  /**
   * Decides a call as `evaluate` does, with the control plane's facts about the call history: a
   * history condition is judged from its fact (unknown when the fact is `undefined`: fail-closed)
   * instead of asking for the control plane.
   */
  evaluateWithHistory(tool: string, args: unknown, context: unknown, facts: HistoryFacts): PolicyMatch;
  /** The policy with its shadow rules enforced (what they would decide), or `null` when it has none. */
  readonly shadow: CompiledPolicy | null;
}


interface CompiledRule {
  readonly rule: PolicyRule;
  readonly globs: readonly RegExp[];
  readonly condition: Evaluator | null;
  /**
   * The condition as data when it is one number comparison (see {@link numericTestOf}): the loop
   * decides a finite number inline, without calling `condition`. Unused fields are neutral values
   * so every rule has the same shape.
   */
  readonly numericKey: string | null;
  readonly numericFromArgs: boolean;
  readonly numericOpcode: number;
  readonly numericLimit: number;
  readonly matched: PolicyMatch;
  /** Per unknown path id, the match to return; filled on first use, so steady state allocates nothing. */
  readonly matchedUnknown: Map<number, PolicyMatch>;
  /** For a rule with history conditions: the match when they cannot be judged here (ask the control plane). */
  readonly needsHistory: PolicyMatch | null;
}

/**
 * Compiles a policy once: condition paths pre-split, operators specialized into closures, rules
 * indexed by exact tool name with the glob rules merged in file order, results precomputed.
 *
 * @example
 * const compiled = compilePolicy(loadPolicy('policy.yaml'));
 * compiled.evaluate('payment.send', { amount: 500 }).action; // 'escalate'
 */
export function compilePolicy(policy: Policy): CompiledPolicy {
  // Where the path of the most recent unknown result is left; read right after each call.
  const scratch: HistorySlot = { unknownPathId: -1, facts: null, historyUnknown: false };
  const historyConditions = collectHistoryConditions(policy);
  const historyIndex = new Map(historyConditions.map(({ condition }, index) => [condition, index]));
  const pathIds = new Map<string, number>();
  const paths: string[] = [];
  const idOf = (path: string): number => {
    let id = pathIds.get(path);
    if (id === undefined) {
      id = paths.push(path) - 1;
      pathIds.set(path, id);
    }
    return id;
  };

  // Shadow rules never decide; `shadow` (below) is the view that enforces them.
  const compiled = policy.rules.filter((rule) => rule.mode !== 'shadow').map((rule): CompiledRule => {
    const history = historyConditions.find((entry) => entry.rule === rule);
    const numeric = rule.condition?.kind === 'test' ? numericTestOf(rule.condition.path, rule.condition.operator, rule.condition.operand) : null;
    return {
      rule,
      numericKey: numeric?.key ?? null,
      numericFromArgs: numeric?.fromArgs ?? false,
      numericOpcode: numeric?.opcode ?? 0,
      numericLimit: numeric?.limit ?? 0,
      globs: rule.tools.filter(isToolGlob).map(compileToolGlob),
      condition: rule.condition ? withHistoryReset(compileCondition(rule.condition, scratch, idOf, historyIndex), history !== undefined, scratch) : null,
      matched: freezeMatch(rule.action, rule.id, null, rule.reason ?? defaultRuleReason(rule.action, rule.id), rule.approval),
      matchedUnknown: new Map(),
      needsHistory: history ? needsHistoryMatch(rule, historyLabel(history.condition)) : null,
    };
  });

  // Candidate rules per tool name, in file order. Names some rule states exactly are indexed up
  // front; any other name is resolved against the glob rules once and remembered, so repeat calls
  // test no RegExp. The remembered part is bounded: tool names come from the model.
  const exactNames = new Set(policy.rules.flatMap((rule) => rule.tools.filter((tool) => !isToolGlob(tool))));
  const exactEntries = [...exactNames].map((name): [string, CompiledRule[]] => [
    name,
    compiled.filter(({ rule, globs }) => rule.tools.includes(name) || anyGlobMatches(globs, name)),
  ]);
  const globRules = compiled.filter(({ globs }) => globs.length > 0);
  let candidatesByTool = new Map(exactEntries);
  let rememberedNames = 0;
  const resolveCandidates = (tool: string): CompiledRule[] => {
    const candidates = globRules.filter(({ globs }) => anyGlobMatches(globs, tool));
    if (rememberedNames >= MAX_REMEMBERED_TOOL_NAMES) {
      candidatesByTool = new Map(exactEntries);
      rememberedNames = 0;
    }
    candidatesByTool.set(tool, candidates);
    rememberedNames += 1;
    return candidates;
  };

  const defaultApproval = policy.defaultAction === 'escalate' ? DEFAULT_APPROVAL : null;
  const defaultMatch = freezeMatch(policy.defaultAction, null, null, defaultReason(policy.defaultAction, null), defaultApproval);
  const defaultAfterUnknown = new Map<number, PolicyMatch>();

  // Renderers for matches that do not carry one (a copy of a match, say), by template.
  const reasons = new Map<string, ReasonRenderer>();

  function matchedThroughUnknown(rule: CompiledRule, pathId: number): PolicyMatch {
    let match = rule.matchedUnknown.get(pathId);
    if (match === undefined) {
      const path = paths[pathId] as string;
      const reason = unknownRuleReason(rule.matched.reasonTemplate, rule.rule.action, path);
      match = freezeMatch(rule.rule.action, rule.rule.id, path, reason, rule.rule.approval);
      rule.matchedUnknown.set(pathId, match);
    }
    return match;
  }

  function defaultThroughUnknown(pathId: number): PolicyMatch {
    let match = defaultAfterUnknown.get(pathId);
    if (match === undefined) {
      const path = paths[pathId] as string;
      match = freezeMatch(policy.defaultAction, null, path, defaultReason(policy.defaultAction, path), defaultApproval);
      defaultAfterUnknown.set(pathId, match);
    }
    return match;
  }

  function evaluate(tool: string, args: unknown, context?: unknown): PolicyMatch {
    const candidates = candidatesByTool.get(tool) ?? resolveCandidates(tool);
    let skippedPathId = -1;
    for (let index = 0; index < candidates.length; index += 1) {
      const candidate = candidates[index] as CompiledRule;
      const condition = candidate.condition;
      if (condition === null) return candidate.matched;
      const key = candidate.numericKey;
      if (key !== null) {
        const object = candidate.numericFromArgs ? args : context;
        if (object !== null && typeof object === 'object') {
          const value = (object as Record<string, unknown>)[key];
          if (typeof value === 'number' && value - value === 0) {
            const opcode = candidate.numericOpcode;
            const limit = candidate.numericLimit;
            if (opcode === 2 ? value > limit : opcode === 3 ? value >= limit : opcode === 4 ? value < limit : value <= limit) return candidate.matched;
            continue;
          }
        }
      }
      const truth = condition(args, context);
      if (truth === TRUE) return candidate.matched;
      if (truth === UNKNOWN) {
        if (candidate.needsHistory !== null && scratch.historyUnknown) return candidate.needsHistory;
        if (candidate.rule.action !== 'allow') return matchedThroughUnknown(candidate, scratch.unknownPathId);
        if (skippedPathId < 0) skippedPathId = scratch.unknownPathId;
      }
    }
    return skippedPathId < 0 ? defaultMatch : defaultThroughUnknown(skippedPathId);
  }

  function renderReason(match: PolicyMatch, args: unknown, context: unknown): string {
    // A match made by compilePolicy carries its renderer: no lookup by template on guard()'s path.
    let render = (match as MatchWithRenderer)[RENDER_REASON] ?? reasons.get(match.reasonTemplate);
    if (render === undefined) {
      render = compileReasonTemplate(match.reasonTemplate);
      reasons.set(match.reasonTemplate, render);
    }
    return render(args, context);
  }

  function evaluateWithHistory(tool: string, args: unknown, context: unknown, facts: HistoryFacts): PolicyMatch {
    scratch.facts = facts;
    try {
      return evaluate(tool, args, context);
    } finally {
      scratch.facts = null;
    }
  }

  const hasShadowRules = policy.rules.some((rule) => rule.mode === 'shadow');
  const shadow = hasShadowRules
    ? compilePolicy({ ...policy, rules: policy.rules.map(({ mode: _mode, ...rule }) => rule) })
    : null;
  return Object.freeze({
    policy,
    evaluate,
    renderReason,
    historyConditions,
    recordsCalls: historyConditions.length > 0 || hasShadowRules,
    evaluateWithHistory,
    shadow,
  });
}

/** The history conditions of every rule (shadow rules too), in file order: how {@link HistoryFacts} are indexed. */
export function collectHistoryConditions(policy: Policy): { condition: HistoryCondition; rule: PolicyRule }[] {
  const found: { condition: HistoryCondition; rule: PolicyRule }[] = [];
  const visit = (condition: Condition, rule: PolicyRule): void => {
    if (condition.kind === 'aggregate' || condition.kind === 'after') found.push({ condition, rule });
    else if (condition.kind === 'not') visit(condition.condition, rule);
    else if (condition.kind === 'all' || condition.kind === 'any') for (const child of condition.conditions) visit(child, rule);
  };
  for (const rule of policy.rules) if (rule.condition) visit(rule.condition, rule);
  return found;
}

/** A rule with history conditions clears the "history was needed" flag before it is evaluated. */
function withHistoryReset(evaluator: Evaluator, hasHistory: boolean, scratch: HistorySlot): Evaluator {
  if (!hasHistory) return evaluator;
  return (args, context) => {
    scratch.historyUnknown = false;
    return evaluator(args, context);
  };
}

/** The agent side cannot see the history: whatever the rule's action, the control plane decides. */
function needsHistoryMatch(rule: PolicyRule, label: string): PolicyMatch {
  return Object.freeze(withRenderer({
    action: 'escalate' as const,
    ruleId: rule.id,
    unknownPath: label,
    reasonTemplate: `Rule '${rule.id}' depends on the call history (${label}): the control plane decides`,
    approval: rule.approval ?? DEFAULT_APPROVAL,
    needsHistory: true as const,
  }));
}

const MAX_REMEMBERED_TOOL_NAMES = 1_024;

/** Requirements of an escalation that no rule's metadata describes (an `escalate` default). */
const DEFAULT_APPROVAL: ApprovalRequirements = Object.freeze({
  requiredApprovals: 1,
  approverRoles: Object.freeze([]) as readonly string[],
  timeoutMs: undefined,
  timeoutAction: 'deny' as const,
});

/** Where a match keeps its compiled reason template: not enumerable, so values, spreads and JSON of a match are unchanged. */
const RENDER_REASON = Symbol('signoff.renderReason');
type MatchWithRenderer = PolicyMatch & { readonly [RENDER_REASON]?: ReasonRenderer };

function freezeMatch(
  action: DecisionAction,
  ruleId: string | null,
  unknownPath: string | null,
  reasonTemplate: string,
  approval: ApprovalRequirements | null,
): PolicyMatch {
  return Object.freeze(withRenderer({ action, ruleId, unknownPath, reasonTemplate, approval }));
}

function withRenderer<Match extends PolicyMatch>(match: Match): Match {
  return Object.defineProperty(match, RENDER_REASON, { value: compileReasonTemplate(match.reasonTemplate) });
}

function anyGlobMatches(globs: readonly RegExp[], tool: string): boolean {
  for (let index = 0; index < globs.length; index += 1) if ((globs[index] as RegExp).test(tool)) return true;
  return false;
}

function compileCondition(
  condition: Condition,
  scratch: HistorySlot,
  idOf: (path: string) => number,
  historyIndex: ReadonlyMap<Condition, number>,
): Evaluator {
  switch (condition.kind) {
    case 'aggregate':
    case 'after':
      return compileHistory(condition, historyIndex.get(condition) as number, idOf(historyLabel(condition)), scratch);
    case 'all':
    case 'any': {
      const children = condition.conditions.map((child) => compileCondition(child, scratch, idOf, historyIndex));
      return condition.kind === 'all' ? compileAll(children, scratch) : compileAny(children, scratch);
    }
    case 'not': {
      const child = compileCondition(condition.condition, scratch, idOf, historyIndex);
      return (args, context) => {
        const truth = child(args, context);
        return truth === UNKNOWN ? UNKNOWN : truth === TRUE ? FALSE : TRUE;
      };
    }
    case 'test':
      return compileTest(condition.path, condition.operator, condition.operand, idOf(condition.path), scratch);
  }
}

/** Kleene AND: false wins, then unknown (reporting the first unknown child's path), else true. */
function compileAll(children: Evaluator[], scratch: UnknownPathSlot): Evaluator {
  if (children.length === 1) return children[0] as Evaluator;
  return (args, context) => {
    let unknownPathId = -1;
    for (let index = 0; index < children.length; index += 1) {
      const truth = (children[index] as Evaluator)(args, context);
      if (truth === FALSE) return FALSE;
      if (truth === UNKNOWN && unknownPathId < 0) unknownPathId = scratch.unknownPathId;
    }
    if (unknownPathId < 0) return TRUE;
    scratch.unknownPathId = unknownPathId;
    return UNKNOWN;
  };
}

/** Kleene OR: true wins, then unknown (reporting the first unknown child's path), else false. */
function compileAny(children: Evaluator[], scratch: UnknownPathSlot): Evaluator {
  if (children.length === 1) return children[0] as Evaluator;
  return (args, context) => {
    let unknownPathId = -1;
    for (let index = 0; index < children.length; index += 1) {
      const truth = (children[index] as Evaluator)(args, context);
      if (truth === TRUE) return TRUE;
      if (truth === UNKNOWN && unknownPathId < 0) unknownPathId = scratch.unknownPathId;
    }
    if (unknownPathId < 0) return FALSE;
    scratch.unknownPathId = unknownPathId;
    return UNKNOWN;
  };
}
