// Builds the benchmark into one plain-JS file and runs it with node: measuring through a TypeScript
// loader (tsx) slows closure-heavy code several-fold, and production code runs compiled.
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';

// --guard-clock: the guard()/evaluate() breakdown (src/guard-clock.ts) instead of the main bench.
const guardClock = process.argv.includes('--guard-clock');
await build({
  entryPoints: [guardClock ? 'src/guard-clock.ts' : 'src/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: guardClock ? 'dist/guard-clock.mjs' : 'dist/main.mjs',
  // Peers stay as installed (cedar loads its .wasm next to its own module).
  external: ['@cedar-policy/cedar-wasm', 'json-rules-engine', 'casbin'],
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: 'warning',
});
// --no-turbo-inline-js-wasm-calls: Node 20's V8 intermittently crashes inlining calls into cedar-wasm.
const run = guardClock
  ? spawnSync(process.execPath, ['dist/guard-clock.mjs'], { stdio: 'inherit' })
  : spawnSync(process.execPath, ['--no-turbo-inline-js-wasm-calls', 'dist/main.mjs', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(run.status ?? 1);
