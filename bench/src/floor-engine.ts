import type { Policy, PolicyRule } from '@signoff/core';
import type { Engine, Verdict } from './engine.js';
import type { BenchInput, Workload } from './workloads.js';

type Decide = (args: Readonly<Record<string, unknown>>) => Verdict;

/**
 * The floor `evaluate()` is measured against: what a programmer would write by hand for these two
 * policies, an indexed lookup (a `Map` from tool name to one closure returning a precomputed
 * verdict) with no three-valued logic and no generality. It knows the bench's inputs have every
 * value a condition reads (see README: inputs), so it skips the checks `evaluate()` must make.
 *
 * The seed policy is written out rule by rule; the 1,000-rule policy is read from its parsed rules
 * (each one exact tool name and one `gt`/`lte` on `args.amount`: anything else is refused, never
 * approximated). The cross-check runs it like every peer, so a floor that drifts fails the bench.
 */
export function createFloorEngine(): Engine & { readonly evaluate: (tool: string, args: unknown) => Verdict } {
  let byTool = new Map<string, Decide>();
  let fallback: (tool: string) => Decide = () => {
    throw new Error('floor: prepare() first');
  };
  const evaluate = (tool: string, args: unknown): Verdict => {
    let decide = byTool.get(tool);
    if (decide === undefined) {
      decide = fallback(tool);
      byTool.set(tool, decide);
    }
    return decide(args as Readonly<Record<string, unknown>>);
  };
  return {
    name: 'hand-written floor',
    evaluate,
    prepare(workload: Workload) {
      ({ byTool, fallback } = workload.name.startsWith('seed') ? seedFloor() : generatedFloor(workload.policy));
    },
    decide: ({ tool, args }: BenchInput) => evaluate(tool, args),
  };
}

const verdict = (action: Verdict['action'], ruleId: string | null): Verdict => Object.freeze({ action, ruleId });

/** examples/policies/seed.yaml, by hand. */
function seedFloor(): { byTool: Map<string, Decide>; fallback: (tool: string) => Decide } {
  const bigPayment = verdict('escalate', 'big-payments');
  const externalEmail = verdict('escalate', 'external-email');
  const routine = verdict('allow', 'routine-payments-and-mail');
  const readOnly = verdict('allow', 'read-only');
  const denied = verdict('deny', null);
  const byTool = new Map<string, Decide>([
    ['payment.send', (args) => (Number(args.amount) > 100 ? bigPayment : routine)],
    ['email.send', (args) => (String(args.to).endsWith('@yourcompany.com') ? routine : externalEmail)],
  ]);
  // "*.get", "*.list" (one segment before), "search.**" (anything after "search.").
  const fallback = (tool: string): Decide => {
    const dot = tool.indexOf('.');
    const twoSegments = dot > 0 && tool.indexOf('.', dot + 1) < 0;
    const readOnlyTool = (twoSegments && (tool.endsWith('.get') || tool.endsWith('.list'))) || (tool.startsWith('search.') && tool.length > 7);
    return readOnlyTool ? () => readOnly : () => denied;
  };
  return { byTool, fallback };
}

/** One closure per exact tool name, for policies made only of `tool: x, when: { args.amount: { gt|lte: n } }`. */
function generatedFloor(policy: Policy): { byTool: Map<string, Decide>; fallback: (tool: string) => Decide } {
  const byDefault = verdict(policy.defaultAction, null);
  const byTool = new Map<string, Decide>();
  for (const rule of policy.rules) {
    const { tool, operator, limit } = simpleRule(rule);
    if (byTool.has(tool)) throw new Error(`floor: tool ${tool} is named twice`);
    const matched = verdict(rule.action, rule.id);
    byTool.set(tool, operator === 'gt' ? (args) => ((args.amount as number) > limit ? matched : byDefault) : (args) => ((args.amount as number) <= limit ? matched : byDefault));
  }
  return { byTool, fallback: () => () => byDefault };
}

function simpleRule(rule: PolicyRule): { tool: string; operator: 'gt' | 'lte'; limit: number } {
  const condition = rule.condition;
  const [tool, ...others] = rule.tools;
  if (tool === undefined || others.length > 0 || /[*?{]/.test(tool) || condition?.kind !== 'test' || condition.path !== 'args.amount') {
    throw new Error(`floor: rule ${rule.id} is not one exact tool with one args.amount test`);
  }
  if ((condition.operator !== 'gt' && condition.operator !== 'lte') || typeof condition.operand !== 'number') {
    throw new Error(`floor: rule ${rule.id} uses ${condition.operator}; only gt and lte on a number are written by hand`);
  }
  return { tool, operator: condition.operator, limit: condition.operand };
}
