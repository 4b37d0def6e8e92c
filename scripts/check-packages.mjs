// The release dry run: build every public package, pack it as npm would publish it, and check the
// tarball with publint and @arethetypeswrong/cli (ESM-only profile). Exits 1 on any problem.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (command, args, options = {}) => execFileSync(command, args, { stdio: 'inherit', ...options });
const packages = readdirSync('packages').filter((name) => !JSON.parse(readFileSync(join('packages', name, 'package.json'), 'utf8')).private);
const destination = mkdtempSync(join(tmpdir(), 'signoff-packs-'));
let failures = 0;
try {
  run('pnpm', ['build']);
  for (const name of packages) {
    run('pnpm', ['pack', '--pack-destination', destination], { cwd: join('packages', name), stdio: 'ignore' });
  }
  for (const tarball of readdirSync(destination).filter((file) => file.endsWith('.tgz'))) {
    const path = join(destination, tarball);
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
