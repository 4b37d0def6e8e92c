import type { ApprovalRequirements } from '../spec/approval-requirements.js';
import type { Condition } from '../spec/condition.js';
import type { DecisionAction } from '../spec/decision-action.js';
import type { Policy } from '../spec/policy.js';
import type { PolicyMatch } from '../spec/policy-match.js';
import type { PolicyRule } from '../spec/policy-rule.js';
import { defaultReason, defaultRuleReason, unknownRuleReason } from './decision-reasons.js';
import { compileTest, type Evaluator, type UnknownPathSlot } from './compile-test.js';
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
}


interface CompiledRule {
  readonly rule: PolicyRule;
  readonly globs: readonly RegExp[];
  readonly condition: Evaluator | null;
  readonly matched: PolicyMatch;
  /** Per unknown path id, the match to return; filled on first use, so steady state allocates nothing. */
  readonly matchedUnknown: Map<number, PolicyMatch>;
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
  const scratch = { unknownPathId: -1 };
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

  const compiled = policy.rules.map((rule): CompiledRule => ({
    rule,
    globs: rule.tools.filter(isToolGlob).map(compileToolGlob),
    condition: rule.condition ? compileCondition(rule.condition, scratch, idOf) : null,
    matched: freezeMatch(rule.action, rule.id, null, rule.reason ?? defaultRuleReason(rule.action, rule.id), rule.approval),
    matchedUnknown: new Map(),
  }));

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

  const reasons = new Map<string, ReasonRenderer>();
  for (const match of [defaultMatch, ...compiled.map(({ matched }) => matched)]) {
    reasons.set(match.reasonTemplate, compileReasonTemplate(match.reasonTemplate));
  }

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
      const truth = condition(args, context);
      if (truth === TRUE) return candidate.matched;
      if (truth === UNKNOWN) {
        if (candidate.rule.action !== 'allow') return matchedThroughUnknown(candidate, scratch.unknownPathId);
        if (skippedPathId < 0) skippedPathId = scratch.unknownPathId;
      }
    }
    return skippedPathId < 0 ? defaultMatch : defaultThroughUnknown(skippedPathId);
  }

  function renderReason(match: PolicyMatch, args: unknown, context: unknown): string {
    let render = reasons.get(match.reasonTemplate);
    if (render === undefined) {
      render = compileReasonTemplate(match.reasonTemplate);
      reasons.set(match.reasonTemplate, render);
    }
    return render(args, context);
  }

  return Object.freeze({ policy, evaluate, renderReason });
}

const MAX_REMEMBERED_TOOL_NAMES = 1_024;

/** Requirements of an escalation that no rule's metadata describes (an `escalate` default). */
const DEFAULT_APPROVAL: ApprovalRequirements = Object.freeze({
  requiredApprovals: 1,
  approverRoles: Object.freeze([]) as readonly string[],
  timeoutMs: undefined,
  timeoutAction: 'deny' as const,
});

function freezeMatch(
  action: DecisionAction,
  ruleId: string | null,
  unknownPath: string | null,
  reasonTemplate: string,
  approval: ApprovalRequirements | null,
): PolicyMatch {
  return Object.freeze({ action, ruleId, unknownPath, reasonTemplate, approval });
}

function anyGlobMatches(globs: readonly RegExp[], tool: string): boolean {
  for (let index = 0; index < globs.length; index += 1) if ((globs[index] as RegExp).test(tool)) return true;
  return false;
}

function compileCondition(
  condition: Condition,
  scratch: UnknownPathSlot,
  idOf: (path: string) => number,
): Evaluator {
  switch (condition.kind) {
    case 'all':
    case 'any': {
      const children = condition.conditions.map((child) => compileCondition(child, scratch, idOf));
      return condition.kind === 'all' ? compileAll(children, scratch) : compileAny(children, scratch);
    }
    case 'not': {
      const child = compileCondition(condition.condition, scratch, idOf);
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
