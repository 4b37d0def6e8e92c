// Builds every public package and packs it exactly as `pnpm publish` would (workspace:^ and
// catalog: ranges rewritten, publishConfig exports applied). Shared by the release dry run
// (check-packages.mjs) and the README quick-start test (readme-quickstarts/run.mjs).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The public packages: folder name and package name. */
export function publicPackages() {
  return readdirSync(join(root, 'packages'))
    .map((folder) => ({ folder, manifest: JSON.parse(readFileSync(join(root, 'packages', folder, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ folder, manifest }) => ({ folder, name: manifest.name }));
}

/**
 * `pnpm build`, then `pnpm pack` of each public package into `destination`.
 * Returns `{ [packageName]: absolute tarball path }`.
 */
export function packPackages(destination, { build = true } = {}) {
  if (build) execFileSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
  const tarballs = {};
  for (const { folder, name } of publicPackages()) {
    const before = new Set(readdirSync(destination));
    execFileSync('pnpm', ['pack', '--pack-destination', destination], { cwd: join(root, 'packages', folder), stdio: 'ignore' });
    const created = readdirSync(destination).find((file) => file.endsWith('.tgz') && !before.has(file));
    if (!created) throw new Error(`pnpm pack wrote no tarball for ${name}`);
    tarballs[name] = join(destination, created);
  }
  return tarballs;
}
