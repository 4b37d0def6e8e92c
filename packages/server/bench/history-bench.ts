// pnpm bench:history — what a decision with a history condition costs on the control plane, next
// to a single-call escalation measured in the same run: the server-side decision over the SQLite
// call history (store read included, HTTP excluded), and the agent's whole round trip (guard() →
// POST /v1/approvals → decided and recorded). Quote medians and ratios: this machine is shared.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePolicy, createSignoff, gatherHistoryFacts, historyKeysOf, parsePolicy } from '@signoff/core';
import { loadServerConfig, sha256Hex, startServer } from '../src/index.js';
import { openSqliteCallHistory } from '../src/store/sqlite-call-history.js';

const quick = process.argv.includes('--quick');
const RUNS = 5;
const PER_RUN = quick ? 40 : 200;
const USERS = 50;
const POLICY = `version: 1
default: deny
rules:
  - { id: single, tool: wire_send, action: escalate }
  - id: refund-burst
    tool: refund_create
    action: escalate
    when: { window: { within: 1h, per: [context.user] }, count: { gte: 1000000 } }
  - { id: refunds, tool: refund_create, action: allow }
`;

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function timePerCall(work: (index: number) => Promise<unknown>): Promise<number> {
  const runs: number[] = [];
  let index = 0;
  for (let run = 0; run < RUNS + 1; run += 1) {
    const start = process.hrtime.bigint();
    for (let call = 0; call < PER_RUN; call += 1) await work((index += 1));
    const ms = Number(process.hrtime.bigint() - start) / 1e6 / PER_RUN;
    if (run > 0) runs.push(ms); // the first run warms up
  }
  return median(runs);
}

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-history-bench-'));
  try {
    // Server-side decision over the SQLite history, without HTTP.
    const compiled = compilePolicy(parsePolicy(POLICY));
    const history = openSqliteCallHistory(join(directory, 'history.db'));
    const now = Date.now();
    for (let user = 0; user < USERS; user += 1) {
      const calls = Array.from({ length: 20 }, (_, index) => {
        const call = { tool: 'refund_create', args: { amount: 5 }, context: { user: `u${user}` } };
        return { call: { id: `seed-${user}-${index}`, at: now - index * 60_000, ...call, action: 'allow' as const, ruleId: 'refunds' }, keys: historyKeysOf(compiled, call) };
      });
      await history.record(calls);
    }
    const decideLocally = await timePerCall(async (index) => {
      const call = { tool: 'refund_create', args: { amount: 5 }, context: { user: `u${index % USERS}` } };
      const facts = await gatherHistoryFacts(compiled, call, history, Date.now());
      return compiled.evaluateWithHistory(call.tool, call.args, call.context, facts);
    });
    await history.close();

    // The round trip through a real control plane (in this process, SQLite), both kinds of rule.
    const agentKey = `sk_bench_agent_${randomUUID()}`;
    writeFileSync(join(directory, 'policy.yaml'), POLICY);
    writeFileSync(
      join(directory, 'signoff.yaml'),
      ['policy: ./policy.yaml', 'store: sqlite:./signoff.db', 'listen: 127.0.0.1:0', 'reviewers: [{ id: ana, name: Ana }]', 'api_keys:', `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(agentKey)}" }`].join('\n'),
    );
    const server = await startServer(loadServerConfig(join(directory, 'signoff.yaml')));
    const signoff = createSignoff({ policy: POLICY, controlPlane: { url: server.url, apiKey: agentKey } });
    const single = await timePerCall((index) => signoff.requestApproval(signoff.guard('wire_send', { amount: index }), { idempotencyKey: `w-${index}` }));
    const withHistory = await timePerCall((index) =>
      signoff.requestApproval(signoff.guard('refund_create', { amount: 5 }, { user: `u${index % USERS}` }), { idempotencyKey: `r-${index}` }),
    );
    await server.close();

    console.log(`history conditions on the control plane: median ms per call over ${RUNS} runs of ${PER_RUN} sequential calls${quick ? ' (--quick)' : ''}`);
    const line = (label: string, ms: number, note = '') => console.log(`  ${label.padEnd(84)} ${ms.toFixed(3).padStart(8)} ms${note}`);
    line('server decision over the SQLite history (20 calls per partition; read + evaluate, no HTTP)', decideLocally);
    line('round trip, single-call escalate rule (create a pending request)', single);
    line('round trip, history rule (decide over the history, record, create)', withHistory, `  (${(withHistory / single).toFixed(2)}× the single-call round trip)`);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

await main();
