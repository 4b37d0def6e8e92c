import type { Timing } from './measure.js';

/** One line of the table: an engine on a workload, and the engine it is compared with. */
export interface Row {
  readonly workload: string;
  readonly engine: string;
  readonly timing: Timing;
  /** Median ns/decision of signoff's pure evaluation on the same workload. */
  readonly oursNs: number;
}

/** The table: policy × engine, median ns/decision, spread of the runs, and the ratio to ours. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['policy', 'engine', 'decisions/run', 'median/decision', 'runs min–max', '× signoff evaluate()'];
  const body = rows.map(({ workload, engine, timing, oursNs }) => [
    workload,
    engine,
    timing.decisionsPerRun.toLocaleString('en-US'),
    formatNs(timing.medianNs),
    `${formatNs(Math.min(...timing.runsNs))} – ${formatNs(Math.max(...timing.runsNs))}`,
    formatRatio(timing.medianNs / oursNs),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => (cells[column] as string).length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n');
}

/** ns below 1 µs, then µs, then ms; three significant digits. */
export function formatNs(ns: number): string {
  if (ns < 1_000) return `${ns.toPrecision(3)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toPrecision(3)} µs`;
  return `${(ns / 1_000_000).toPrecision(3)} ms`;
}

export function formatRatio(ratio: number): string {
  return ratio < 10 ? `${ratio.toFixed(1)}×` : `${Math.round(ratio).toLocaleString('en-US')}×`;
}
