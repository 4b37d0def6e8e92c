// `pnpm --filter @signoff/server bench:audit [entries]`: writes a SQLite audit log of N entries
// (default 1,000,000) and runs `signoff audit verify` on it in a child process, reporting its rate
// and peak memory — the figure behind "verify streams: bounded memory" (issue #21).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore } from '../src/store/sqlite-store.js';

const total = Number(process.argv[2] ?? 1_000_000);
const directory = mkdtempSync(join(tmpdir(), 'signoff-audit-bench-'));
const file = join(directory, 'audit.db');
const store = openSqliteStore(file);
const started = performance.now();
for (let written = 0; written < total; written += 5_000) {
  const batch = Math.min(5_000, total - written);
  await store.appendAudit(Array.from({ length: batch }, (_, index) => ({ type: 'access.refused' as const, actor: 'unknown', channel: 'api' as const, detail: { reason: 'unknown API key', n: written + index } })));
}
await store.close();
console.log(`wrote ${total.toLocaleString('en-US')} entries (${(statSync(file).size / 1e6).toFixed(0)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const bin = fileURLToPath(new URL('../../cli/bin/signoff.js', import.meta.url));
const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, bin, 'audit', 'verify', '--store', `sqlite:${file}`], { encoding: 'utf8' });
const peakKb = Number(run.stderr.trim().split('\n').at(-1));
console.log(run.stdout.trim() || run.stderr.trim());
console.log(`peak RSS of audit verify: ${(peakKb / 1024).toFixed(0)} MB`);
rmSync(directory, { recursive: true, force: true });
