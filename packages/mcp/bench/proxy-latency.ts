// Added latency of signoff-mcp for an allowed call: the registry's "everything" MCP server called directly
// and through the proxy (both over stdio, real processes), interleaved in one run.
// Run: pnpm --filter @signoff/mcp bench [-- calls]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const calls = Number(process.argv[2] ?? 2_000);
const packageRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const upstream = [process.execPath, join(packageRoot, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js'), 'stdio'];
const policyFile = join(mkdtempSync(join(tmpdir(), 'signoff-mcp-bench-')), 'policy.yaml');
writeFileSync(policyFile, 'version: 1\ndefault: deny\nrules:\n  - tool: echo\n    action: allow\n');

async function connect(command: string[]): Promise<Client> {
  const [executable, ...args] = command as [string, ...string[]];
  const client = new Client({ name: 'bench', version: '1.0.0' });
  // Allowed calls never reach the control plane: a closed port shows that.
  await client.connect(new StdioClientTransport({ command: executable, args, cwd: packageRoot, env: { PATH: process.env.PATH ?? '', SIGNOFF_API_KEY: 'sk_signoff_bench' } }));
  return client;
}

const direct = await connect(upstream);
const proxied = await connect([process.execPath, join(packageRoot, 'bin', 'signoff-mcp.js'), '--policy', policyFile, '--control-plane', 'http://127.0.0.1:9', '--', ...upstream]);
const call = async (client: Client): Promise<number> => {
  const started = performance.now();
  await client.callTool({ name: 'echo', arguments: { message: 'ping' } });
  return performance.now() - started;
};
for (let index = 0; index < 300; index++) await Promise.all([call(direct), call(proxied)]); // warm-up (JIT, both processes)
const times = { direct: [] as number[], proxied: [] as number[] };
for (let index = 0; index < calls; index++) {
  // Alternate the order so neither side always runs on a just-woken machine.
  if (index % 2 === 0) times.direct.push(await call(direct)), times.proxied.push(await call(proxied));
  else times.proxied.push(await call(proxied)), times.direct.push(await call(direct));
}
await Promise.all([direct.close(), proxied.close()]);

const quantile = (values: number[], q: number): number => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] as number;
const row = (name: string, values: number[]) => `${name.padEnd(9)} p50 ${quantile(values, 0.5).toFixed(3)} ms   p99 ${quantile(values, 0.99).toFixed(3)} ms`;
console.log(`${calls} allowed tools/call each, over stdio (Node ${process.version})`);
console.log(row('direct', times.direct));
console.log(row('proxied', times.proxied));
console.log(`added     p50 ${(quantile(times.proxied, 0.5) - quantile(times.direct, 0.5)).toFixed(3)} ms   p99 ${(quantile(times.proxied, 0.99) - quantile(times.direct, 0.99)).toFixed(3)} ms   (target: < 1 ms p50)`);
