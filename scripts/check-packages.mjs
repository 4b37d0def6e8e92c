// The release dry run: build every public package, pack it as npm would publish it, and check the
// tarball with publint and @arethetypeswrong/cli (ESM-only profile). Exits 1 on any problem.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { packPackages, publicPackages } from './pack-packages.mjs';

const run = (command, args, options = {}) => execFileSync(command, args, { stdio: 'inherit', ...options });
const packages = publicPackages();
const destination = mkdtempSync(join(tmpdir(), 'signoff-packs-'));
let failures = 0;
try {
  for (const path of Object.values(packPackages(destination))) {
    const tarball = basename(path);
    for (const [tool, args] of [['publint', [path, '--strict']], ['attw', [path, '--profile', 'esm-only']]]) {
      try {
        run('pnpm', ['exec', tool, ...args]);
      } catch {
        console.error(`✗ ${tool} failed for ${tarball}`);
        failures += 1;
      }
    }
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}
console.log(failures === 0 ? `release check passed for ${packages.length} packages` : `release check: ${failures} problem(s)`);
process.exit(failures === 0 ? 0 : 1);
