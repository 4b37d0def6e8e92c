import type { DecisionAction } from '../spec/decision-action.js';
import type { Policy } from '../spec/policy.js';
import type { RecordedCall } from '../spec/recorded-call.js';
import { compilePolicy } from './compile-policy.js';
import { gatherHistoryFacts } from './gather-history-facts.js';
import { createMemoryHistory } from './memory-history.js';

/** One kind of change between the recorded decision and the candidate's, e.g. allow → escalate. */
export interface ReplayFlip {
  readonly from: DecisionAction;
  readonly to: DecisionAction;
  readonly count: number;
  /** The first few calls that flipped this way, with the rule that decided each time. */
  readonly examples: readonly { readonly call: RecordedCall; readonly ruleId: string | null }[];
}

/** What a candidate policy would have changed over a recorded history. */
export interface ReplayReport {
  /** Calls replayed. */
  readonly calls: number;
  /** Calls the candidate decides as they were decided. */
  readonly unchanged: number;
  /** Calls decided differently, grouped by (from, to), most frequent first. */
  readonly flips: readonly ReplayFlip[];
}

/** Examples kept per kind of flip. */
const EXAMPLES = 3;

/**
 * Runs a candidate policy over recorded calls (oldest first) and reports which decisions would
 * flip (allow → escalate, escalate → deny, …). History conditions are judged at each call's time
 * over the calls before it, as they were really decided (a denied call never ran, so it is not
 * counted), indexed for the candidate's own `per` paths. Shadow rules of the candidate are not
 * enforced, exactly as when it is loaded.
 *
 * @example
 * const report = await replayPolicy(loadPolicy('candidate.yaml'), recordedCalls);
 * for (const flip of report.flips) console.log(`${flip.from} → ${flip.to}: ${flip.count}`);
 */
export async function replayPolicy(candidate: Policy, calls: readonly RecordedCall[]): Promise<ReplayReport> {
  const compiled = compilePolicy(candidate);
  const history = createMemoryHistory(compiled);
  const flips = new Map<string, { from: DecisionAction; to: DecisionAction; count: number; examples: { call: RecordedCall; ruleId: string | null }[] }>();
  let unchanged = 0;
  for (const call of [...calls].sort((left, right) => left.at - right.at)) {
    const facts = await gatherHistoryFacts(compiled, call, history, call.at);
    const match = compiled.evaluateWithHistory(call.tool, call.args, call.context, facts);
    if (match.action === call.action) unchanged += 1;
    else {
      const key = `${call.action}>${match.action}`;
      const flip = flips.get(key) ?? { from: call.action, to: match.action, count: 0, examples: [] };
      flip.count += 1;
      if (flip.examples.length < EXAMPLES) flip.examples.push({ call, ruleId: match.ruleId });
      flips.set(key, flip);
    }
    history.record(call);
  }
  return { calls: calls.length, unchanged, flips: [...flips.values()].sort((left, right) => right.count - left.count) };
}
