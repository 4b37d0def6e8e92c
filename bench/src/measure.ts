/** ns per decision of each timed run, and their median. */
export interface Timing {
  readonly medianNs: number;
  readonly runsNs: readonly number[];
  readonly decisionsPerRun: number;
}

/** Does `count` decisions and returns a value derived from every result, so none can be optimized away. */
export type Batch = (count: number) => number | Promise<number>;

/** Every batch's result is folded in here; main prints it, so the work is observable. */
export let checksum = 0;

/**
 * Times `runs` batches of `decisions` decisions, after an untimed warm-up batch of `warmUp`
 * decisions, with `process.hrtime.bigint()` around each batch. Quote the median, never one run.
 */
export async function timeRuns(batch: Batch, decisions: number, runs: number, warmUp: number): Promise<Timing> {
  if (warmUp > 0) checksum = (checksum + (await batch(warmUp))) | 0;
  const runsNs: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const start = process.hrtime.bigint();
    const result = await batch(decisions);
    const elapsed = process.hrtime.bigint() - start;
    checksum = (checksum + result) | 0;
    runsNs.push(Number(elapsed) / decisions);
  }
  return { medianNs: median(runsNs), runsNs, decisionsPerRun: decisions };
}

/**
 * How many decisions a run of a slow engine needs to last at least `minNs` (and do at least
 * `minDecisions`): doubles a batch until it takes a tenth of that, which also warms the engine up.
 */
export async function decisionsFor(batch: Batch, minNs: number, minDecisions: number): Promise<number> {
  let count = 8;
  for (;;) {
    const start = process.hrtime.bigint();
    checksum = (checksum + (await batch(count))) | 0;
    const elapsed = Number(process.hrtime.bigint() - start);
    if (elapsed >= minNs / 10) return Math.max(minDecisions, Math.ceil((minNs / elapsed) * count));
    count *= 2;
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
