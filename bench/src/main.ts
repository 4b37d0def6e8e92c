import { cpus } from 'node:os';
import type { Guard } from '@signoff/core';
import { findDisagreements, type Disagreement } from './agree.js';
import type { Engine } from './engine.js';
import { checksum, decisionsFor, timeRuns, type Batch } from './measure.js';
import { createCasbinEngine } from './peers/casbin.js';
import { createCedarEngine } from './peers/cedar.js';
import { createJsonRulesEngine } from './peers/json-rules-engine.js';
import { formatNs, formatRatio, formatTable, type Row } from './report.js';
import { createSignoffEngine } from './signoff-engine.js';
import { timeHistory } from './history.js';
import { INPUT_COUNT, loadWorkloads, type BenchInput, type Workload } from './workloads.js';

// `pnpm bench` measures ns per decision; `pnpm bench --quick` only smokes the same path.
const quick = process.argv.includes('--quick');
const RUNS = 5;
const OWN_DECISIONS = quick ? 131_072 : 1_048_576;
const PEER_MIN_NS = quick ? 50e6 : 1e9;
const PEER_MIN_DECISIONS = quick ? 20 : 200;
const MASK = INPUT_COUNT - 1;
const TARGETS = { pureNs: [40, 60], guardNs: 250, peerRatio: 100 };

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
}

async function prepareAndCheck(workload: Workload): Promise<PreparedWorkload> {
  const ours = createSignoffEngine();
  const withReceipt = createSignoffEngine({ receipt: true });
  const peers = workload.comparePeers ? [createCedarEngine(), createJsonRulesEngine(), createCasbinEngine()] : [];
  for (const engine of [ours, withReceipt, ...peers]) await engine.prepare(workload);
  const disagreements = await findDisagreements(workload, ours, [withReceipt, ...peers]);
  if (disagreements.length > 0) abort(workload, disagreements);
  const distinct = new Set(workload.inputs).size;
  const others = ['guard()', ...peers.map(({ name }) => name)].join(', ');
  console.log(`agreement: ${workload.name}: ${others} agree${peers.length > 0 ? '' : 's'} with evaluate() on all ${distinct} distinct inputs.`);
  return { workload, guard: ours.guard(), peers };
}

async function timeWorkload({ workload, guard, peers }: PreparedWorkload): Promise<Row[]> {
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
  for (const peer of peers) {
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
    sink += guard(tools[slot] as string, args[slot]).receipt.id.length;
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
  workloads.forEach((workload, index) => {
    const [pure, full, ...peers] = rows.filter((row) => row.workload === workload);
    if (pure === undefined || full === undefined) return;
    const pureTarget = TARGETS.pureNs[index];
    if (pureTarget !== undefined) verdicts.push(check(`${workload}: evaluate() ≤ ${pureTarget} ns`, pure.timing.medianNs <= pureTarget, formatNs(pure.timing.medianNs)));
    verdicts.push(check(`${workload}: guard() ≤ ${TARGETS.guardNs} ns`, full.timing.medianNs <= TARGETS.guardNs, formatNs(full.timing.medianNs)));
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
