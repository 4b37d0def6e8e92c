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

/** Two timings taken in alternation, and the median of the ratios of each pair (b / a). */
export interface PairedTiming {
  readonly a: Timing;
  readonly b: Timing;
  readonly medianRatio: number;
}

/**
 * Times two batches alternately (a, b, a, b, …), `runs` times each, after a warm-up of each, and
 * returns the median of the per-pair ratios b / a. On a shared machine whose load drifts within
 * seconds, a ratio of neighbours is steadier than the ratio of two medians taken apart.
 */
export async function timePaired(a: Batch, b: Batch, decisions: number, runs: number): Promise<PairedTiming> {
  checksum = (checksum + (await a(decisions)) + (await b(decisions))) | 0;
  const aNs: number[] = [];
  const bNs: number[] = [];
  const time = async (batch: Batch): Promise<number> => {
    const start = process.hrtime.bigint();
    const result = await batch(decisions);
    const elapsed = process.hrtime.bigint() - start;
    checksum = (checksum + result) | 0;
    return Number(elapsed) / decisions;
  };
  for (let run = 0; run < runs; run += 1) {
    aNs.push(await time(a));
    bNs.push(await time(b));
  }
  const timing = (runsNs: number[]): Timing => ({ medianNs: median(runsNs), runsNs, decisionsPerRun: decisions });
  return { a: timing(aNs), b: timing(bNs), medianRatio: median(bNs.map((ns, index) => ns / (aNs[index] as number))) };
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
