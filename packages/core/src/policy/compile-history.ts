import type { Condition } from '../spec/condition.js';
import type { Evaluator, UnknownPathSlot } from './compile-test.js';
import { formatDuration } from './history-syntax.js';
import { FALSE, TRUE, UNKNOWN, type Truth } from './truth.js';

/** A history condition: a `window` aggregate or an `after:` sequence. */
export type HistoryCondition = Extract<Condition, { kind: 'aggregate' | 'after' }>;

/**
 * What the control plane found in its history for each history condition of a policy, by the
 * condition's index in `CompiledPolicy.historyConditions`: the aggregate's value (this call
 * included), whether an `after:` tool was called, or `undefined` when the history could not be
 * read (the condition is then unknown: fail-closed).
 */
export type HistoryFacts = readonly (number | boolean | undefined)[];

/** The scratch a history condition reads its facts from and reports through. */
export interface HistorySlot extends UnknownPathSlot {
  /** The facts of the evaluation in progress; `null` on the agent side, where no history is at hand. */
  facts: HistoryFacts | null;
  /** Set when a history condition was unknown because there were no facts at all. */
  historyUnknown: boolean;
}

/** How a history condition is named in reasons and `unknownPath`: `sum(args.amount)`, `count`, `after(inbox.read)`. */
export function historyLabel(condition: HistoryCondition): string {
  if (condition.kind === 'after') return `after(${condition.tools.join(', ')})`;
  return condition.path === null ? 'count' : `${condition.aggregate}(${condition.path})`;
}

/** A readable summary, for explanations: `sum(args.amount) within 1h per context.agent, args.to`. */
export function describeHistoryCondition(condition: HistoryCondition): string {
  const per = condition.window.per.length === 0 ? '' : ` per ${condition.window.per.join(', ')}`;
  return `${historyLabel(condition)} within ${formatDuration(condition.window.withinMs)}${per}`;
}

/** Judges a fact: unknown when missing, else the aggregate's comparisons (all must hold) or the `after` flag. */
export function judgeHistoryFact(condition: HistoryCondition, fact: number | boolean | undefined): Truth {
  if (fact === undefined) return UNKNOWN;
  if (condition.kind === 'after') return fact === true ? TRUE : FALSE;
  if (typeof fact !== 'number') return UNKNOWN;
  for (const { operator, operand } of condition.tests) {
    const holds =
      operator === 'gt' ? fact > operand
      : operator === 'gte' ? fact >= operand
      : operator === 'lt' ? fact < operand
      : operator === 'lte' ? fact <= operand
      : operator === 'eq' ? fact === operand
      : fact !== operand;
    if (!holds) return FALSE;
  }
  return TRUE;
}

/**
 * Compiles one history condition into its own node: it judges the fact at `index` when the caller
 * supplied facts (the control plane), and is unknown otherwise, flagging that history was needed.
 * No allocation either way.
 */
export function compileHistory(condition: HistoryCondition, index: number, pathId: number, slot: HistorySlot): Evaluator {
  return () => {
    const facts = slot.facts;
    if (facts === null) {
      slot.historyUnknown = true;
      slot.unknownPathId = pathId;
      return UNKNOWN;
    }
    const truth = judgeHistoryFact(condition, facts[index]);
    if (truth === UNKNOWN) slot.unknownPathId = pathId;
    return truth;
  };
}
