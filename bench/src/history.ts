import { compilePolicy, createGuard, createMemoryHistory, gatherHistoryFacts, parsePolicy, type RecordedCall } from '@signoff/core';
import { timeRuns } from './measure.js';
import { formatTable, type Row } from './report.js';

/**
 * A decision with a history condition, next to a single-call decision on the same policy, in the
 * same run: the agent-side `guard()` (which only marks the call `needsHistory`), the control
 * plane's evaluation once it has the facts, and its whole decision over an in-memory history of
 * 20 calls per partition (gathering facts included, store and network excluded). The round trip
 * through a real control plane is `pnpm bench:history` (packages/server).
 */
export const HISTORY_POLICY = `
version: 1
default: deny
rules:
  - { id: small, tool: payment_send, action: allow, when: { args.amount: { lte: 10 } } }
  - id: split-payments
    tool: payment_send
    action: escalate
    when:
      window: { within: 1h, per: [context.agent, args.to] }
      sum(args.amount): { gt: 100000 }
  - { id: payments, tool: payment_send, action: allow }
`;

const PARTITIONS = 16;
const CALLS_PER_PARTITION = 20;

export async function timeHistory(decisions: number, runs: number): Promise<Row[]> {
  const policy = parsePolicy(HISTORY_POLICY);
  const guard = createGuard(policy);
  const compiled = compilePolicy(policy);
  const now = Date.now();
  const history = createMemoryHistory(compiled);
  for (let partition = 0; partition < PARTITIONS; partition += 1) {
    for (let index = 0; index < CALLS_PER_PARTITION; index += 1) {
      const call: RecordedCall = { id: `c${partition}-${index}`, at: now - index * 60_000, tool: 'payment_send', args: { to: `payee-${partition}`, amount: 50 }, context: { agent: 'bot' }, action: 'allow', ruleId: 'payments' };
      history.record(call);
    }
  }
  const small = Array.from({ length: PARTITIONS }, (_, partition) => ({ to: `payee-${partition}`, amount: 5 }));
  const big = Array.from({ length: PARTITIONS }, (_, partition) => ({ to: `payee-${partition}`, amount: 500 }));
  const context = { agent: 'bot' };
  const facts = [CALLS_PER_PARTITION * 50 + 500];
  const mask = PARTITIONS - 1;

  const single = await timeRuns((count) => {
    let sink = 0;
    for (let index = 0; index < count; index += 1) sink += guard('payment_send', small[index & mask], context).receipt.id.length;
    return sink;
  }, decisions, runs, decisions);
  const marked = await timeRuns((count) => {
    let sink = 0;
    for (let index = 0; index < count; index += 1) sink += guard('payment_send', big[index & mask], context).receipt.id.length;
    return sink;
  }, decisions, runs, decisions);
  const withFacts = await timeRuns((count) => {
    let sink = 0;
    for (let index = 0; index < count; index += 1) sink += compiled.evaluateWithHistory('payment_send', big[index & mask], context, facts).action.length;
    return sink;
  }, decisions, runs, decisions);
  const slow = Math.max(1, Math.floor(decisions / 64));
  const gathered = await timeRuns(async (count) => {
    let sink = 0;
    for (let index = 0; index < count; index += 1) {
      const call = { tool: 'payment_send', args: big[index & mask], context };
      const found = await gatherHistoryFacts(compiled, call, history, now);
      sink += compiled.evaluateWithHistory(call.tool, call.args, call.context, found).action.length;
    }
    return sink;
  }, slow, runs, slow);

  const floor = single.medianNs;
  const rows: Row[] = [
    { workload: 'history', engine: 'guard(), decided before the history rule', timing: single, oursNs: floor },
    { workload: 'history', engine: 'guard(), reaches it: needsHistory', timing: marked, oursNs: floor },
    { workload: 'history', engine: 'control plane: evaluateWithHistory(facts)', timing: withFacts, oursNs: floor },
    { workload: 'history', engine: `control plane: gather (${CALLS_PER_PARTITION} calls) + evaluate`, timing: gathered, oursNs: floor },
  ];
  console.log(`\nhistory conditions (ratios against the first row, guard() on a call decided before the history rule):\n${formatTable(rows).replace('× signoff evaluate()', '× first row')}`);
  return rows;
}
