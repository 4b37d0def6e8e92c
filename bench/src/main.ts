import { cpus } from 'node:os';
import type { Guard } from '@signoff/core';
import { findDisagreements, type Disagreement } from './agree.js';
import type { Engine } from './engine.js';
import { checksum, decisionsFor, timePaired, timeRuns, type Batch } from './measure.js';
import { createCasbinEngine } from './peers/casbin.js';
import { createFloorEngine } from './floor-engine.js';
import { createCedarEngine } from './peers/cedar.js';
import { createJsonRulesEngine } from './peers/json-rules-engine.js';
import { formatNs, formatRatio, formatTable, type Row } from './report.js';
import { createSignoffEngine } from './signoff-engine.js';
import { timeHistory } from './history.js';
import { INPUT_COUNT, loadWorkloads, type BenchInput, type Workload } from './workloads.js';

// `pnpm bench` measures ns per decision; `pnpm bench --quick` only smokes the same path.
const quick = process.argv.includes('--quick');
// --signoff-only: cross-check everything, but time only signoff and the floor (for before/after work).
const signoffOnly = process.argv.includes('--signoff-only');
const RUNS = 5;
const OWN_DECISIONS = quick ? 131_072 : 1_048_576;
const PEER_MIN_NS = quick ? 50e6 : 1e9;
const PEER_MIN_DECISIONS = quick ? 20 : 200;
const MASK = INPUT_COUNT - 1;
const TARGETS = { pureNs: [40, 60], guardNs: 250, peerRatio: 100, overFloor: 1.2, guardOverEvaluateAllow: 2 };
const FLOOR = 'hand-written floor';
const PURE_ALLOW = 'signoff evaluate(), allow inputs';
const GUARD_ALLOW = 'signoff guard(), allow inputs';
// Alternating runs (timePaired): shorter, and more of them, so load drift hits both sides alike.
const PAIRED_RUNS = quick ? 5 : 21;
const PAIRED_DECISIONS = quick ? 65_536 : 262_144;
/** Median ratios of alternating runs, by label; printed with the targets. */
const pairedRatios = new Map<string, number>();

console.log(`signoff policy-evaluation benchmark${quick ? ' (--quick: too few iterations to quote)' : ''}`);
console.log(`Node ${process.version}, ${process.platform} ${process.arch}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`);
console.log(`median of ${RUNS} runs per cell, each over a mixed set of ${INPUT_COUNT} inputs.`);
console.log(`signoff: ${OWN_DECISIONS.toLocaleString('en-US')} decisions per run, after a warm-up run of as many.`);
console.log(`peers: fewer decisions per run (they take µs–ms each): enough for ≥ ${PEER_MIN_NS / 1e9} s and ≥ ${PEER_MIN_DECISIONS} decisions, after a calibration warm-up.`);
console.log('json-rules-engine is async only: each decision is awaited, and that is part of its time.\n');

// Every engine must agree on every input of every workload before anything is timed.
const prepared: PreparedWorkload[] = [];
for (const workload of loadWorkloads()) prepared.push(await prepareAndCheck(workload));
const rows: Row[] = [];
for (const workload of prepared) rows.push(...(await timeWorkload(workload)));

console.log(`\n${formatTable(rows)}\n`);
printRatiosAndTargets(rows);
progress('history conditions');
await timeHistory(OWN_DECISIONS, RUNS);
console.log(`\n(checksum of all results: ${checksum})`);

interface PreparedWorkload {
  readonly workload: Workload;
  readonly guard: Guard;
  readonly peers: readonly Engine[];
  /** The hand-written indexed evaluator (policies a and b), cross-checked like a peer. */
  readonly floor: ReturnType<typeof createFloorEngine> | undefined;
}

async function prepareAndCheck(workload: Workload): Promise<PreparedWorkload> {
  const ours = createSignoffEngine();
  const withReceipt = createSignoffEngine({ receipt: true });
  const peers = workload.comparePeers ? [createCedarEngine(), createJsonRulesEngine(), createCasbinEngine()] : [];
  const floor = workload.comparePeers ? createFloorEngine() : undefined;
  const checked = [withReceipt, ...(floor ? [floor] : []), ...peers];
  for (const engine of [ours, ...checked]) await engine.prepare(workload);
  const disagreements = await findDisagreements(workload, ours, checked);
  if (disagreements.length > 0) abort(workload, disagreements);
  const distinct = new Set(workload.inputs).size;
  const others = checked.map(({ name }) => name).join(', ');
  console.log(`agreement: ${workload.name}: ${others} agree${checked.length > 1 ? '' : 's'} with evaluate() on all ${distinct} distinct inputs.`);
  return { workload, guard: ours.guard(), peers, floor };
}

async function timeWorkload({ workload, guard, peers, floor }: PreparedWorkload): Promise<Row[]> {
  const tools = workload.inputs.map(({ tool }) => tool);
  const args = workload.inputs.map(({ args }) => args);
  progress(`${workload.name}: signoff evaluate()`);
  const pure = await timeRuns((count) => evaluateBatch(guard, tools, args, count), OWN_DECISIONS, RUNS, OWN_DECISIONS);
  progress(`${workload.name}: signoff guard()`);
  const full = await timeRuns((count) => guardBatch(guard, tools, args, count), OWN_DECISIONS, RUNS, OWN_DECISIONS);
  const rows: Row[] = [
    { workload: workload.name, engine: 'signoff evaluate() (pure)', timing: pure, oursNs: pure.medianNs },
    { workload: workload.name, engine: 'signoff guard() + receipt', timing: full, oursNs: pure.medianNs },
  ];
  // The two ratios with targets are timed in alternation (see timePaired): evaluate() against the
  // hand-written floor, and guard() against evaluate() on the calls the policy allows, where the
  // receipt is all guard() adds.
  if (floor) {
    progress(`${workload.name}: ${FLOOR}, alternating with evaluate()`);
    const paired = await timePaired((count) => floorBatch(floor.evaluate, tools, args, count), (count) => evaluateBatch(guard, tools, args, count), PAIRED_DECISIONS, PAIRED_RUNS);
    rows.push({ workload: workload.name, engine: FLOOR, timing: paired.a, oursNs: pure.medianNs });
    pairedRatios.set(`${workload.name}: evaluate() / hand-written floor`, paired.medianRatio);
  }
  const allowed = workload.inputs.filter(({ tool, args }) => guard.evaluate(tool, args).action === 'allow');
  if (allowed.length > 0) {
    const allowTools = Array.from({ length: INPUT_COUNT }, (_, index) => (allowed[index % allowed.length] as BenchInput).tool);
    const allowArgs = Array.from({ length: INPUT_COUNT }, (_, index) => (allowed[index % allowed.length] as BenchInput).args);
    progress(`${workload.name}: ${GUARD_ALLOW}, alternating with evaluate()`);
    const paired = await timePaired((count) => evaluateBatch(guard, allowTools, allowArgs, count), (count) => guardBatch(guard, allowTools, allowArgs, count), PAIRED_DECISIONS, PAIRED_RUNS);
    rows.push({ workload: workload.name, engine: PURE_ALLOW, timing: paired.a, oursNs: pure.medianNs });
    rows.push({ workload: workload.name, engine: GUARD_ALLOW, timing: paired.b, oursNs: pure.medianNs });
    pairedRatios.set(`${workload.name}: guard() / evaluate() on allowed calls`, paired.medianRatio);
  }
  for (const peer of signoffOnly ? [] : peers) {
    progress(`${workload.name}: ${peer.name}`);
    const batch = peerBatch(peer, workload.inputs);
    const decisions = await decisionsFor(batch, PEER_MIN_NS, PEER_MIN_DECISIONS);
    const name = peer.name === 'json-rules-engine' ? 'json-rules-engine (awaited)' : peer.name;
    rows.push({ workload: workload.name, engine: name, timing: await timeRuns(batch, decisions, RUNS, 0), oursNs: pure.medianNs });
  }
  return rows;
}

/** Where the run is, on stderr, so the table on stdout stays clean. */
function progress(step: string): void {
  process.stderr.write(`timing ${step}…\n`);
}

function evaluateBatch(guard: Guard, tools: readonly string[], args: readonly unknown[], count: number): number {
  let sink = 0;
  for (let index = 0; index < count; index += 1) {
    const slot = index & MASK;
    sink += guard.evaluate(tools[slot] as string, args[slot]).action.length;
  }
  return sink;
}

function guardBatch(guard: Guard, tools: readonly string[], args: readonly unknown[], count: number): number {
  let sink = 0;
  for (let index = 0; index < count; index += 1) {
    const slot = index & MASK;
    // The decision as a caller that runs an allowed call sees it: the receipt is not read.
    const decision = guard(tools[slot] as string, args[slot]);
    sink += decision.action.length + decision.reason.length;
  }
  return sink;
}

function floorBatch(evaluate: (tool: string, args: unknown) => { action: string }, tools: readonly string[], args: readonly unknown[], count: number): number {
  let sink = 0;
  for (let index = 0; index < count; index += 1) {
    const slot = index & MASK;
    sink += evaluate(tools[slot] as string, args[slot]).action.length;
  }
  return sink;
}

/** A peer's batch goes on through the input set where the previous batch stopped. */
function peerBatch(engine: Engine, inputs: readonly BenchInput[]): Batch {
  let cursor = 0;
  return async (count) => {
    let sink = 0;
    for (let index = 0; index < count; index += 1) {
      const result = engine.decide(inputs[(cursor += 1) & MASK] as BenchInput);
      sink += (result instanceof Promise ? await result : result).action.length;
    }
    return sink;
  };
}

function printRatiosAndTargets(rows: readonly Row[]): void {
  console.log('ratios (peer median / signoff evaluate() median):');
  const workloads = [...new Set(rows.map(({ workload }) => workload))];
  const verdicts: string[] = [];
  const own = new Set([FLOOR, PURE_ALLOW, GUARD_ALLOW]);
  workloads.forEach((workload, index) => {
    const of = rows.filter((row) => row.workload === workload);
    const [pure, full, ...rest] = of;
    if (pure === undefined || full === undefined) return;
    const peers = rest.filter((row) => !own.has(row.engine));
    const pureTarget = TARGETS.pureNs[index];
    if (pureTarget !== undefined) verdicts.push(check(`${workload}: evaluate() ≤ ${pureTarget} ns`, pure.timing.medianNs <= pureTarget, formatNs(pure.timing.medianNs)));
    verdicts.push(check(`${workload}: guard() ≤ ${TARGETS.guardNs} ns`, full.timing.medianNs <= TARGETS.guardNs, formatNs(full.timing.medianNs)));
    const overFloor = pairedRatios.get(`${workload}: evaluate() / hand-written floor`);
    if (overFloor !== undefined) {
      console.log(`  ${workload}: evaluate() / hand-written floor ${overFloor.toFixed(2)}× (median of ${PAIRED_RUNS} alternating pairs)`);
      verdicts.push(check(`${workload}: evaluate() ≤ ${TARGETS.overFloor}× the hand-written floor`, overFloor <= TARGETS.overFloor, `${overFloor.toFixed(2)}×`));
    }
    const guardOverPure = pairedRatios.get(`${workload}: guard() / evaluate() on allowed calls`);
    if (guardOverPure !== undefined) {
      console.log(`  ${workload}: guard() / evaluate() on allowed calls ${guardOverPure.toFixed(2)}× (median of ${PAIRED_RUNS} alternating pairs)`);
      verdicts.push(check(`${workload}: guard() ≤ ${TARGETS.guardOverEvaluateAllow}× evaluate() on allowed calls`, guardOverPure <= TARGETS.guardOverEvaluateAllow, `${guardOverPure.toFixed(2)}×`));
    }
    if (peers.length === 0) return; // the matches policy: no peer can express it (see workloads.ts)
    console.log(`  ${workload}: ${peers.map((row) => `${row.engine} ${formatRatio(row.timing.medianNs / row.oursNs)}`).join(', ')}`);
    const slowest = Math.min(...peers.map((row) => row.timing.medianNs / row.oursNs));
    verdicts.push(check(`${workload}: ≥ ${TARGETS.peerRatio}× faster than each peer`, slowest >= TARGETS.peerRatio, `closest ${formatRatio(slowest)}`));
  });
  console.log(`targets${quick ? ' (not meaningful with --quick)' : ''}:`);
  for (const verdict of verdicts) console.log(`  ${verdict}`);
}

function check(target: string, met: boolean, measured: string): string {
  return `${met ? 'met ' : 'MISS'}  ${target}: ${measured}`;
}

function abort(workload: Workload, disagreements: readonly Disagreement[]): never {
  const say = (verdict: { action: string; ruleId: string | null }): string => `${verdict.action} (${verdict.ruleId ?? 'default'})`;
  console.error(`bench aborted: engines disagree with signoff evaluate() on ${workload.name} — nothing was timed.`);
  for (const { engine, input, expected, actual } of disagreements.slice(0, 10)) {
    console.error(`  ${engine}: ${input.tool} ${JSON.stringify(input.args)} → ${say(actual)}, signoff says ${say(expected)}`);
  }
  if (disagreements.length > 10) console.error(`  … and ${disagreements.length - 10} more`);
  process.exit(1);
}
