import type { Engine, Verdict } from './engine.js';
import type { BenchInput, Workload } from './workloads.js';

/** An input on which an engine's verdict differs from the reference's. */
export interface Disagreement {
  readonly engine: string;
  readonly input: BenchInput;
  readonly expected: Verdict;
  readonly actual: Verdict;
}

/**
 * Decides every input of the workload with the reference and with each engine (all prepared for
 * this workload) and returns every input where action or deciding rule differ. A repeated input
 * (the same object) is decided once.
 */
export async function findDisagreements(workload: Workload, reference: Engine, engines: readonly Engine[]): Promise<Disagreement[]> {
  const disagreements: Disagreement[] = [];
  for (const input of new Set(workload.inputs)) {
    const expected = await reference.decide(input);
    for (const engine of engines) {
      const actual = await engine.decide(input);
      if (actual.action !== expected.action || actual.ruleId !== expected.ruleId) {
        disagreements.push({ engine: engine.name, input, expected, actual });
      }
    }
  }
  return disagreements;
}
