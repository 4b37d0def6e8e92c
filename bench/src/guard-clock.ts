// `node run.mjs --guard-clock`: where guard()'s time above evaluate() goes on allowed calls. Each
// variant runs in its own process, because V8 shares type feedback per closure literal: two guards
// in one process would make each other's call sites polymorphic.
import { spawnSync } from 'node:child_process';
import { createGuard, type Guard } from '@signoff/core';
import { median } from './measure.js';
import { INPUT_COUNT, loadWorkloads, type BenchInput } from './workloads.js';

const VARIANTS = {
  'Date.now() (the default)': undefined,
  'a fixed clock': () => 1_764_000_000_000,
} as const satisfies Record<string, (() => number) | undefined>;
type Variant = keyof typeof VARIANTS;
const PAIRS = 15;
const DECISIONS = 262_144;
const PROCESSES_PER_VARIANT = 3;
const MASK = INPUT_COUNT - 1;

const asked = process.argv.find((arg) => arg.startsWith('--variant='))?.slice('--variant='.length);
if (asked === undefined) runAll();
else measure(asked as Variant);

/** Spawns every variant PROCESSES_PER_VARIANT times, alternating, and prints each one's ratios. */
function runAll(): void {
  const results = new Map<string, string[]>();
  for (let round = 0; round < PROCESSES_PER_VARIANT; round += 1) {
    for (const variant of Object.keys(VARIANTS)) {
      const child = spawnSync(process.execPath, [process.argv[1] as string, `--variant=${variant}`], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`variant ${variant} failed: ${child.stderr}`);
      for (const line of child.stdout.trim().split('\n')) {
        const [workload, ratio] = line.split('\t') as [string, string];
        const key = `${workload}: guard() with ${variant}`;
        results.set(key, [...(results.get(key) ?? []), ratio]);
      }
    }
  }
  console.log(`guard() / evaluate() on allowed calls, median of ${PAIRS} alternating pairs of ${DECISIONS.toLocaleString('en-US')}, one process per figure:`);
  for (const [key, ratios] of results) console.log(`  ${key}: ${ratios.map((ratio) => `${ratio}×`).join(', ')}`);
}

/** Prints, per policy, the median ratio guard()/evaluate() over alternating runs on allowed inputs. */
function measure(variant: Variant): void {
  for (const workload of loadWorkloads().filter(({ comparePeers }) => comparePeers)) {
    const now = VARIANTS[variant];
    const guard: Guard = createGuard(workload.policy, now ? { now } : {});
    const allowed = workload.inputs.filter(({ tool, args }) => guard.evaluate(tool, args).action === 'allow');
    const pick = (index: number): BenchInput => allowed[index % allowed.length] as BenchInput;
    const tools = Array.from({ length: INPUT_COUNT }, (_, index) => pick(index).tool);
    const args = Array.from({ length: INPUT_COUNT }, (_, index) => pick(index).args);
    const evaluateBatch = (): number => {
      let sink = 0;
      for (let index = 0; index < DECISIONS; index += 1) sink += guard.evaluate(tools[index & MASK] as string, args[index & MASK]).action.length;
      return sink;
    };
    const guardBatch = (): number => {
      let sink = 0;
      for (let index = 0; index < DECISIONS; index += 1) {
        const decision = guard(tools[index & MASK] as string, args[index & MASK]);
        sink += decision.action.length + decision.reason.length;
      }
      return sink;
    };
    const time = (batch: () => number): number => {
      const start = process.hrtime.bigint();
      if (batch() < 0) throw new Error('unreachable: keeps the result observable');
      return Number(process.hrtime.bigint() - start);
    };
    time(evaluateBatch);
    time(guardBatch);
    const ratios: number[] = [];
    for (let pair = 0; pair < PAIRS; pair += 1) {
      const evaluateNs = time(evaluateBatch);
      ratios.push(time(guardBatch) / evaluateNs);
    }
    console.log(`${workload.name}\t${median(ratios).toFixed(2)}`);
  }
}
