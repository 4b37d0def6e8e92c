import { preparsePolicySet, statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import type { Condition, DecisionAction, PolicyRule } from '@signoff/core';
import type { Engine, Verdict } from '../engine.js';

/**
 * Cedar (`@cedar-policy/cedar-wasm`, the Rust engine compiled to WebAssembly). Cedar has no
 * first-match: every rule becomes its own `permit` policy (id `r<index>`), so the decision is
 * `allow` whenever any rule matches and `diagnostics.reason` lists every matching rule; the one
 * with the smallest index is the first match, and its action is ours. The tool is the Cedar action
 * (`Action::"payment.send"`) and also `context.tool`, for globs; args are `context.args`.
 */
export function createCedarEngine(): Engine {
  let rules: readonly PolicyRule[] = [];
  let defaultAction: DecisionAction = 'deny';
  let policySetId = '';
  return {
    name: 'cedar-wasm',
    prepare(workload) {
      rules = workload.policy.rules;
      defaultAction = workload.policy.defaultAction;
      const staticPolicies = Object.fromEntries(rules.map((rule) => [`r${rule.index}`, toCedarPolicy(rule)]));
      policySetId = `bench-${(preparsedSets += 1)}`;
      const parsed = preparsePolicySet(policySetId, { staticPolicies });
      if (parsed.type !== 'success') throw new Error(`cedar: ${parsed.errors.map((error) => error.message).join('; ')}`);
    },
    decide({ tool, args }): Verdict {
      const answer = statefulIsAuthorized({
        principal: { type: 'Agent', id: 'bench' },
        action: { type: 'Action', id: tool },
        resource: { type: 'Tool', id: tool },
        context: { tool, args },
        preparsedPolicySetId: policySetId,
        entities: [],
      });
      if (answer.type !== 'success') throw new Error(`cedar: ${answer.errors.map((error) => error.message).join('; ')}`);
      const { reason, errors } = answer.response.diagnostics;
      if (errors.length > 0) throw new Error(`cedar: policy ${errors[0]?.policyId} errored: ${errors[0]?.error.message}`);
      let first = -1;
      for (const id of reason) {
        const index = Number(id.slice(1));
        if (first < 0 || index < first) first = index;
      }
      const rule = rules[first];
      return rule === undefined ? { action: defaultAction, ruleId: null } : { action: rule.action, ruleId: rule.id };
    },
  };
}

/** Preparsed policy sets live in the wasm module, one namespace for every engine instance. */
let preparsedSets = 0;

/** One rule as one Cedar `permit`: exact tools in the action scope, globs and conditions in `when`. */
export function toCedarPolicy(rule: PolicyRule): string {
  const exact = rule.tools.every((tool) => !/[*?{}]/.test(tool));
  const scope = exact ? `action in [${rule.tools.map((tool) => `Action::${quote(tool)}`).join(', ')}]` : 'action';
  const clauses = exact ? [] : [`(${rule.tools.map(toolTest).join(' || ')})`];
  if (rule.condition) clauses.push(expression(rule.condition));
  const when = clauses.length > 0 ? ` when { ${clauses.join(' && ')} }` : '';
  return `@id(${quote(rule.id)})\npermit (principal, ${scope}, resource)${when};`;
}

/**
 * A tool glob as `like` tests. Cedar's `*` spans dots, so a glob made of whole-segment `*`s also
 * requires the same number of dots (`*.get` = like "*.get" and not like "*.*.*").
 */
function toolTest(glob: string): string {
  if (!/[*?{}]/.test(glob)) return `context.tool == ${quote(glob)}`;
  const segments = glob.split('.');
  if (!segments.every((segment) => segment === '*' || segment === '**' || !/[*?{}]/.test(segment))) {
    throw new Error(`cedar mapping: glob '${glob}' is not made of whole-segment '*' / '**'`);
  }
  const pattern = segments.map((segment) => (segment.startsWith('*') ? '*' : likeLiteral(segment))).join('.');
  if (segments.includes('**')) {
    if (segments.includes('*')) throw new Error(`cedar mapping: glob '${glob}' mixes '*' and '**'`);
    return `context.tool like ${quoteLike(pattern)}`;
  }
  const oneMoreSegment = Array.from({ length: segments.length + 1 }, () => '*').join('.');
  return `(context.tool like ${quoteLike(pattern)} && !(context.tool like ${quoteLike(oneMoreSegment)}))`;
}

function expression(condition: Condition): string {
  switch (condition.kind) {
    case 'all':
    case 'any':
      return `(${condition.conditions.map(expression).join(condition.kind === 'all' ? ' && ' : ' || ')})`;
    case 'not':
      return `!(${expression(condition.condition)})`;
    case 'aggregate':
    case 'after':
      throw new Error('cedar mapping: history conditions are not part of the bench policies');
    case 'test': {
      if (!condition.path.startsWith('args.')) throw new Error(`cedar mapping: only args.* paths (${condition.path})`);
      const value = `context.${condition.path}`;
      const operand = condition.operand;
      switch (condition.operator) {
        case 'gt':
        case 'gte':
        case 'lt':
        case 'lte':
          if (!Number.isInteger(operand)) throw new Error('cedar mapping: numeric operands must be integers (Cedar Long)');
          return `${value} ${COMPARISONS[condition.operator]} ${operand as number}`;
        case 'eq':
        case 'ne':
          return `${value} ${condition.operator === 'eq' ? '==' : '!='} ${JSON.stringify(operand)}`;
        case 'starts_with':
          return `${value} like ${quoteLike(`${likeLiteral(operand as string)}*`)}`;
        case 'ends_with':
          return `${value} like ${quoteLike(`*${likeLiteral(operand as string)}`)}`;
        default:
          throw new Error(`cedar mapping: operator '${condition.operator}' not mapped`);
      }
    }
  }
}

const COMPARISONS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

const quote = (text: string): string => JSON.stringify(text);
/** `like` treats `*` as the wildcard, so a literal `*` is written `\*`. */
const likeLiteral = (text: string): string => text.replace(/\*/g, '\\*');
/** A `like` pattern as a Cedar string literal; its `\*` escapes must survive unchanged. */
const quoteLike = (pattern: string): string => `"${pattern.replace(/"/g, '\\"')}"`;
