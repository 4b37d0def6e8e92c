import type { DecisionAction } from '@signoff/core';
import type { BenchInput, Workload } from './workloads.js';

/** What every engine must agree on for each input: the action and the deciding rule (`null` = default). */
export interface Verdict {
  readonly action: DecisionAction;
  readonly ruleId: string | null;
}

/**
 * One engine behind the same face: `prepare` translates and loads a workload's policy once (not
 * timed); `decide` answers one input (timed). An async engine returns a promise and is awaited.
 */
export interface Engine {
  readonly name: string;
  prepare(workload: Workload): void | Promise<void>;
  decide(input: BenchInput): Verdict | Promise<Verdict>;
}
