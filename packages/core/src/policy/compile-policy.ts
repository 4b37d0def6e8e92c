import type { ApprovalRequirements } from '../spec/approval-requirements.js';
import type { Condition } from '../spec/condition.js';
import type { ConditionOperator } from '../spec/condition-operator.js';
import type { DecisionAction } from '../spec/decision-action.js';
import type { Policy } from '../spec/policy.js';
import type { PolicyMatch } from '../spec/policy-match.js';
import type { PolicyRule } from '../spec/policy-rule.js';
import { defaultReason, defaultRuleReason, unknownRuleReason } from './decision-reasons.js';
import { deepEqual, isPresent, isScalar, readPath, toNumber, valuesEqual } from './operator-semantics.js';
import { compileReasonTemplate, type ReasonRenderer } from './reason-template.js';
import { compileToolGlob, isToolGlob } from './tool-glob.js';
import { FALSE, TRUE, UNKNOWN, type Truth } from './truth.js';

/** A policy compiled for evaluation. */
export interface CompiledPolicy {
  /** The policy it was compiled from. */
  readonly policy: Policy;
  /**
   * Decides a call: the first matching rule wins, else the default. Pure and allocation-free: the
   * result is a precomputed frozen object; an unknown condition fails closed (see {@link PolicyMatch}).
   */
  evaluate(tool: string, args: unknown, context?: unknown): PolicyMatch;
  /** Renders a match's reason template with the call's args and context. */
  renderReason(match: PolicyMatch, args: unknown, context: unknown): string;
}

type Evaluator = (args: unknown, context: unknown) => Truth;
type Judge = (value: unknown) => Truth;

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

  const byTool = new Map<string, CompiledRule[]>();
  for (const name of new Set(policy.rules.flatMap((rule) => rule.tools.filter((tool) => !isToolGlob(tool))))) {
    byTool.set(
      name,
      compiled.filter(({ rule, globs }) => rule.tools.includes(name) || globs.some((glob) => glob.test(name))),
    );
  }
  const globRules = compiled.filter(({ globs }) => globs.length > 0);

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
    const exact = byTool.get(tool);
    const candidates = exact ?? globRules;
    let skippedPathId = -1;
    for (let index = 0; index < candidates.length; index += 1) {
      const candidate = candidates[index] as CompiledRule;
      if (exact === undefined && !anyGlobMatches(candidate.globs, tool)) continue;
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
  scratch: { unknownPathId: number },
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
    case 'test': {
      const read = compileRead(condition.path);
      const judge = compileJudge(condition.operator, condition.operand);
      if (condition.operator === 'exists') return (args, context) => judge(read(args, context));
      const pathId = idOf(condition.path);
      return (args, context) => {
        const value = read(args, context);
        const truth = value === undefined ? UNKNOWN : judge(value);
        if (truth === UNKNOWN) scratch.unknownPathId = pathId;
        return truth;
      };
    }
  }
}

/** Kleene AND: false wins, then unknown (reporting the first unknown child's path), else true. */
function compileAll(children: Evaluator[], scratch: { unknownPathId: number }): Evaluator {
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
function compileAny(children: Evaluator[], scratch: { unknownPathId: number }): Evaluator {
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

/** A reader for `args.a.b` / `context.x`, unrolled for the common one- and two-segment paths. */
function compileRead(path: string): (args: unknown, context: unknown) => unknown {
  const [root, ...segments] = path.split('.');
  const fromArgs = root === 'args';
  if (segments.length === 1) {
    const [key] = segments as [string];
    return (args, context) => {
      const object = fromArgs ? args : context;
      return object !== null && typeof object === 'object' && Object.hasOwn(object, key)
        ? (object as Record<string, unknown>)[key]
        : undefined;
    };
  }
  return (args, context) => readPath(fromArgs ? args : context, segments);
}

/** A specialized judge for a present value (`undefined` is handled by the caller, except for `exists`). */
function compileJudge(operator: ConditionOperator, operand: unknown): Judge {
  switch (operator) {
    case 'exists':
      return operand === true
        ? (value) => (isPresent(value) ? TRUE : FALSE)
        : (value) => (isPresent(value) ? FALSE : TRUE);
    case 'eq':
    case 'ne': {
      const equals = compileEquals(operand);
      return operator === 'eq' ? (value) => (equals(value) ? TRUE : FALSE) : (value) => (equals(value) ? FALSE : TRUE);
    }
    case 'gt': {
      const limit = operand as number;
      return (value) => {
        const number = typeof value === 'number' && Number.isFinite(value) ? value : toNumber(value);
        return number === undefined ? UNKNOWN : number > limit ? TRUE : FALSE;
      };
    }
    case 'gte': {
      const limit = operand as number;
      return (value) => {
        const number = typeof value === 'number' && Number.isFinite(value) ? value : toNumber(value);
        return number === undefined ? UNKNOWN : number >= limit ? TRUE : FALSE;
      };
    }
    case 'lt': {
      const limit = operand as number;
      return (value) => {
        const number = typeof value === 'number' && Number.isFinite(value) ? value : toNumber(value);
        return number === undefined ? UNKNOWN : number < limit ? TRUE : FALSE;
      };
    }
    case 'lte': {
      const limit = operand as number;
      return (value) => {
        const number = typeof value === 'number' && Number.isFinite(value) ? value : toNumber(value);
        return number === undefined ? UNKNOWN : number <= limit ? TRUE : FALSE;
      };
    }
    case 'in':
    case 'not_in': {
      const isMember = compileMembership(operand as unknown[]);
      const found = operator === 'in' ? TRUE : FALSE;
      const missing = operator === 'in' ? FALSE : TRUE;
      return (value) => (isScalar(value) ? (isMember(value) ? found : missing) : UNKNOWN);
    }
    case 'contains': {
      const equals = compileEquals(operand);
      return (value) => {
        if (typeof value === 'string') {
          return typeof operand === 'string' ? (value.includes(operand) ? TRUE : FALSE) : UNKNOWN;
        }
        if (!Array.isArray(value)) return UNKNOWN;
        for (let index = 0; index < value.length; index += 1) if (equals(value[index])) return TRUE;
        return FALSE;
      };
    }
    case 'starts_with': {
      const prefix = operand as string;
      return (value) => (typeof value === 'string' ? (value.startsWith(prefix) ? TRUE : FALSE) : UNKNOWN);
    }
    case 'ends_with': {
      const suffix = operand as string;
      return (value) => (typeof value === 'string' ? (value.endsWith(suffix) ? TRUE : FALSE) : UNKNOWN);
    }
    case 'matches': {
      // Vetted for catastrophic backtracking at load time; no g/y flag, so test() keeps no state.
      const pattern = new RegExp(operand as string);
      return (value) => (typeof value === 'string' ? (pattern.test(value) ? TRUE : FALSE) : UNKNOWN);
    }
  }
}

function compileEquals(operand: unknown): (value: unknown) => boolean {
  if (typeof operand === 'number') return (value) => value === operand || toNumber(value) === operand;
  if (operand === null || typeof operand !== 'object') return (value) => value === operand;
  return (value) => deepEqual(value, operand);
}

/** Membership in a list of scalars: a Set for the strings, a scan for the rest (numbers coerce). */
function compileMembership(list: readonly unknown[]): (value: unknown) => boolean {
  const strings = new Set(list.filter((item): item is string => typeof item === 'string'));
  const others = list.filter((item) => typeof item !== 'string');
  return (value) => {
    if (typeof value === 'string' && strings.has(value)) return true;
    for (let index = 0; index < others.length; index += 1) if (valuesEqual(value, others[index])) return true;
    return false;
  };
}
