// pnpm bench:server — the control plane on loopback: creation throughput, approve→resume latency
// against a 3-second polling loop measured in the same run, RSS with 10,000 waiting clients, and
// the same with PostgreSQL when SIGNOFF_TEST_POSTGRES_URL is set. Quote medians and ratios.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSignoff, type ApprovalRequest } from '@signoff/core';
import { spawnServer } from '../src/__fixtures__/server-process.js';
import { sha256Hex } from '../src/index.js';
import { percentile } from './percentile.js';

const quick = process.argv.includes('--quick');
// --only=creates or --only=waiters runs one part (for profiling and quick before/after checks).
const only = /^--only=(creates|waiters)$/.exec(process.argv.find((arg) => arg.startsWith('--only=')) ?? '')?.[1];
// --cpu-prof=<dir> writes a CPU profile of each server process (and floor) into <dir>.
const cpuProfileDir = process.argv.find((arg) => arg.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);
const nodeOptions = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
const CREATE_TOTAL = quick ? 500 : 5_000;
const CREATE_CLIENTS = 50;
/** Agent keys of the second creates row (the first sends every create with one key). */
const AGENT_KEYS = 50;
const RESUME_TOTAL = quick ? 100 : 1_000;
const POLLING_SAMPLES = quick ? 6 : 20;
const WAITERS = quick ? 1_000 : 10_000;
const POLICY = `version: 1
default: deny
rules:
  - { id: bench, tool: bench.op, action: escalate, metadata: { approval_timeout_minutes: 60 } }
`;

async function main(): Promise<void> {
  const rows: string[][] = [];
  const postgresUrl = process.env.SIGNOFF_TEST_POSTGRES_URL;
  const schema = `bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const stores: Array<[string, string]> = [['SQLite', 'sqlite:./bench.db']];
  if (postgresUrl) stores.push(['PostgreSQL', `${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}schema=${schema}`]);
  else console.log('(SIGNOFF_TEST_POSTGRES_URL not set: PostgreSQL skipped)');
  let rss = { idle: 0, withWaiters: 0 };
  let floorRss = { idle: 0, withWaiters: 0 };
  for (const [name, store] of stores) {
    // The floor first, on a store of its own, measured exactly like the server right after it.
    const floorStore = name === 'SQLite' ? `sqlite:${join(mkdtempSync(join(tmpdir(), 'signoff-floor-')), 'floor.db')}` : store;
    const floor = only === 'waiters' ? 0 : await measureFloor(floorStore);
    if (name === 'SQLite' && only !== 'creates') floorRss = await measureFloor(floorStore, measureWaiterRss);
    const server = await startServerProcess(store);
    if (only !== 'waiters') {
      // Warmed like the floor (measureFloor): a first run, cold, read ~0.75× the runs after it here.
      await createsPerSecond(server);
      const creates = await createsPerSecond(server);
      const latency = only === 'creates' ? ['–', '–', '–', '–'] : await measureLatency(server);
      rows.push([name, fmtRate(creates), fmtRate(floor), (creates / floor).toFixed(2), ...latency]);
      // The same load from AGENT_KEYS agents (keys taken in turn per create): one key is the worst case for a store that orders one agent's creates.
      const spread = await createsPerSecond({ url: server.url, agentKey: server.agentKeys });
      rows.push([`${name}, ${AGENT_KEYS} agent keys`, fmtRate(spread), fmtRate(floor), (spread / floor).toFixed(2), '–', '–', '–', '–']);
    }
    if (name === 'SQLite' && only !== 'creates') rss = await measureWaiterRss(server);
    await server.stop();
    if (name === 'SQLite') rmSync(dirname(floorStore.slice('sqlite:'.length)), { recursive: true, force: true });
  }
  if (postgresUrl) await dropSchema(postgresUrl, schema);

  console.log('\nControl plane on loopback, server in its own process (this machine is noisy: compare ratios, rerun for spread)');
  console.log('floor: bare node:http + one JSON parse + one insert (better-sqlite3 WAL / one pooled pg INSERT), same clients, same run');
  if (rows.length > 0) printTable(['store', 'creates/s (50 clients)', 'floor creates/s', '× floor', 'approve→resume p50', 'p99', '3 s polling loop mean', 'speed-up vs polling'], rows);
  if (only !== 'creates') {
    const perWaiterKb = (measured: { idle: number; withWaiters: number }) => (((measured.withWaiters - measured.idle) * 1024) / WAITERS).toFixed(1);
    console.log(`\nRSS of the server process holding ${WAITERS.toLocaleString('en')} concurrent long-poll waits: ${rss.withWaiters} MB (idle: ${rss.idle} MB; ${perWaiterKb(rss)} KB per waiter)`);
    console.log(`floor, bare node:http holding as many requests unanswered: ${floorRss.withWaiters} MB (idle: ${floorRss.idle} MB; ${perWaiterKb(floorRss)} KB per waiter)`);
  }
}

const fmtRate = (perSecond: number): string => Math.round(perSecond).toLocaleString('en');

/** Creates/s (or another measure) of the floor server (floor-server.ts) on the same kind of store. */
async function measureFloor(store: string): Promise<number>;
async function measureFloor<T>(store: string, measure: (server: ServerProcess) => Promise<T>): Promise<T>;
async function measureFloor(store: string, measure?: (server: ServerProcess) => Promise<unknown>): Promise<unknown> {
  const { url, child } = await spawnServer(store, { nodeOptions, script: await compiled('floor-server', new URL('./floor-server.ts', import.meta.url)) });
  try {
    const server: ServerProcess = { url, agentKey: 'none', agentKeys: [], pid: child.pid as number, decide: () => Promise.reject(new Error('the floor has no decisions')), stop: () => Promise.resolve() };
    if (measure) return await measure(server);
    // Measured twice, the second kept: a first run, with the load generator's code still cold and
    // the database file still growing, read 0.6–0.85× the second, which flattered every ratio.
    await createsPerSecond(server);
    return await createsPerSecond(server);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

interface ServerProcess {
  readonly url: string;
  readonly agentKey: string;
  /** `AGENT_KEYS` further agent keys, each its own agent. */
  readonly agentKeys: readonly string[];
  readonly pid: number;
  decide(id: string, verdict: 'approve' | 'deny'): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `signoff serve`'s code path (the run-server fixture) on a fresh config in a temp folder. */
async function startServerProcess(store: string): Promise<ServerProcess> {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-bench-'));
  const agentKey = `sk_bench_agent_${randomUUID()}`;
  const agentKeys = Array.from({ length: AGENT_KEYS }, (_, index) => `sk_bench_agent${index}_${randomUUID()}`);
  const reviewerKey = `sk_bench_ana_${randomUUID()}`;
  writeFileSync(join(directory, 'policy.yaml'), POLICY);
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      'policy: ./policy.yaml',
      `store: "${store}"`,
      'listen: 127.0.0.1:0',
      'reviewers: [{ id: ana, name: Ana }]',
      'api_keys:',
      `  - { name: agent, kind: agent, key_sha256: "${sha256Hex(agentKey)}" }`,
      ...agentKeys.map((key, index) => `  - { name: agent${index}, kind: agent, key_sha256: "${sha256Hex(key)}" }`),
      `  - { name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex(reviewerKey)}" }`,
    ].join('\n'),
  );
  const { url, child } = await spawnServer(join(directory, 'signoff.yaml'), { nodeOptions, script: await compiled('run-server', new URL('../src/__fixtures__/run-server.ts', import.meta.url)) });
  return {
    url,
    agentKey,
    agentKeys,
    pid: child.pid as number,
    async decide(id, verdict) {
      const response = await fetch(`${url}/v1/approvals/${id}/decision`, {
        method: 'POST',
        headers: { authorization: `Bearer ${reviewerKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ verdict }),
      });
      if (!response.ok) throw new Error(`decision failed: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * The server as it runs when installed: plain JavaScript (the published bin runs compiled dist),
 * not through a TypeScript loader, which alone adds ~100 MB of RSS. Built once per run. Only the
 * workspace's own code is bundled; every npm dependency is loaded from node_modules, as in an
 * install, so a dependency the server loads only when used (Slack, email, OIDC) costs what it does there.
 */
const builds = new Map<string, Promise<string>>();
function compiled(name: string, entry: URL): Promise<string> {
  let built = builds.get(name);
  built ??= (async () => {
    const { build } = await import('esbuild');
    const outfile = fileURLToPath(new URL(`./.build/${name}.mjs`, import.meta.url));
    await build({
      entryPoints: [fileURLToPath(entry)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile,
      external: npmDependencies(),
      banner: { js: "import { createRequire as bannerCreateRequire } from 'node:module'; const require = bannerCreateRequire(import.meta.url);" },
      logLevel: 'warning',
    });
    return outfile;
  })();
  builds.set(name, built);
  return built;
}

/** The npm packages the server depends on (not the workspace's `@signoff/*`; core's own are bundled with it, as pnpm keeps them out of the server's reach). */
function npmDependencies(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies?: Record<string, string> };
  return Object.keys(manifest.dependencies ?? {}).filter((name) => !name.startsWith('@signoff/'));
}

/** Creation throughput: 50 keep-alive clients (node:http, lighter than fetch), each creating as fast as answers come back. */
async function createsPerSecond(server: { readonly url: string; readonly agentKey: string | readonly string[] }): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CREATE_CLIENTS });
  const keys = typeof server.agentKey === 'string' ? [server.agentKey] : server.agentKey;
  let sent = 0;
  const post = () => createOverHttp(agent, { url: server.url, agentKey: keys[sent++ % keys.length] as string }, { tool: 'bench.op', args: { n: randomUUID() }, idempotencyKey: randomUUID() });
  for (let index = 0; index < 300; index += 1) await post(); // warm-up
  let remaining = CREATE_TOTAL;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CREATE_CLIENTS }, async () => {
      while (remaining-- > 0) await post();
    }),
  );
  const perSecond = CREATE_TOTAL / ((performance.now() - started) / 1000);
  agent.destroy();
  return perSecond;
}

async function measureLatency(server: ServerProcess): Promise<string[]> {
  const signoff = createSignoff({ policy: POLICY, controlPlane: { url: server.url, apiKey: server.agentKey } });
  const create = () => signoff.requestApproval(signoff.guard('bench.op', { n: randomUUID() }));

  // Approve → the waiting client's promise resolves (the core client's long-poll), one at a time.
  const latencies: number[] = [];
  for (let index = 0; index < RESUME_TOTAL; index += 1) {
    const request = await create();
    const waiting = signoff.waitForDecision(request.id);
    await new Promise((resolve) => setTimeout(resolve, 2)); // let the long-poll reach the server
    let approvedAt = 0;
    const resumed = waiting.then(() => performance.now() - approvedAt);
    approvedAt = performance.now();
    await server.decide(request.id, 'approve');
    latencies.push(await resumed);
  }

  // The anchor: a client polling every 3 s (HumanLayer's SDK default) notices the same kind of decision.
  const pollingDelays = await Promise.all(
    Array.from({ length: POLLING_SAMPLES }, async () => {
      const request = await create();
      const poller = pollEvery3s(server, request);
      await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 3_000));
      const approvedAt = performance.now();
      await server.decide(request.id, 'approve');
      return (await poller) - approvedAt;
    }),
  );
  const pollingMean = pollingDelays.reduce((sum, delay) => sum + delay, 0) / pollingDelays.length;
  const p50 = percentile(latencies, 0.5);
  return [
    `${p50.toFixed(2)} ms`,
    `${percentile(latencies, 0.99).toFixed(2)} ms`,
    `${Math.round(pollingMean)} ms`,
    `${Math.round(pollingMean / p50)}×`,
  ];
}

function createOverHttp(agent: http.Agent, server: Pick<ServerProcess, 'url' | 'agentKey'>, body: object): Promise<void> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { hostname, port, path: '/v1/approvals', method: 'POST', agent, headers: { authorization: `Bearer ${server.agentKey}`, 'content-type': 'application/json' } },
      (response) => {
        response.resume();
        response.on('end', () => ((response.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`create failed: ${response.statusCode}`))));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

/** Resolves with the time the poller first sees the request resolved. */
async function pollEvery3s(server: ServerProcess, request: ApprovalRequest): Promise<number> {
  const phase = Math.random() * 3_000; // pollers start at arbitrary points of their cycle
  await new Promise((resolve) => setTimeout(resolve, phase));
  for (;;) {
    const response = await fetch(`${server.url}/v1/approvals/${request.id}`, { headers: { authorization: `Bearer ${server.agentKey}` } });
    const current = (await response.json()) as ApprovalRequest;
    if (current.status !== 'pending') return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
}

/** Reads the server process's RSS while WAITERS clients long-poll one request. */
async function measureWaiterRss(server: ServerProcess): Promise<{ idle: number; withWaiters: number }> {
  const rssMb = () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1]) / 1024);
  const headers = { authorization: `Bearer ${server.agentKey}`, 'content-type': 'application/json' };
  const created = (await (await fetch(`${server.url}/v1/approvals`, { method: 'POST', headers, body: JSON.stringify({ tool: 'bench.op', args: {} }) })).json()) as ApprovalRequest;
  const idle = rssMb();
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const { hostname, port } = new URL(server.url);
  const requests: http.ClientRequest[] = [];
  for (let index = 0; index < WAITERS; index += 1) {
    const request = http.get({ hostname, port, path: `/v1/approvals/${created.id}/wait?timeout=60`, headers, agent });
    request.on('error', () => undefined);
    requests.push(request);
  }
  // 10,000 connects fill the listen backlog for a while: a metrics read that times out is retried.
  const metric = async () => {
    try {
      return Number(/signoff_waiting_clients (\d+)/.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  const deadline = Date.now() + 60_000;
  while ((await metric()) < WAITERS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  const waiting = await metric();
  const withWaiters = rssMb();
  // What the V8 heap holds (prom-client's default metrics; the floor has none): retained vs reserved.
  const metrics = await fetch(`${server.url}/metrics`).then((response) => response.text(), () => '');
  const heapMb = (name: string) => Math.round(Number(new RegExp(`signoff_nodejs_heap_size_${name}_bytes (\\d+)`).exec(metrics)?.[1] ?? Number.NaN) / 1048576);
  if (/heap_size_used/.test(metrics)) console.log(`(server with ${waiting} waiters: V8 heap used ${heapMb('used')} MB of ${heapMb('total')} MB)`);
  if (waiting < WAITERS) console.log(`(only ${waiting} of ${WAITERS} waits reached the server)`);
  for (const request of requests) request.destroy();
  agent.destroy();
  return { idle, withWaiters };
}

async function dropSchema(connectionString: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}


function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

await main();
