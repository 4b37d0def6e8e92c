import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The version of a package as Node would load it from `from` (default: this package), read from the
 * package's own package.json. Neither `@openai/agents` nor `openai` exports its package.json, and the
 * Agents SDK has no version constant, so this resolves the entry point the way Node does
 * (`createRequire(…).resolve`, which also honours workspaces and Plug'n'Play) and walks up to the
 * manifest with that name; a package that only has `import` exports is found by walking up the
 * `node_modules` folders instead. `undefined` when it is not installed.
 *
 * @example
 * readInstalledVersion('@openai/agents'); // '0.20.0'
 */
export function readInstalledVersion(packageName: string, from: string | URL = import.meta.url): string | undefined {
  const entry = resolveEntry(packageName, from);
  if (entry === undefined) return undefined;
  for (let directory = dirname(entry); basename(directory) !== 'node_modules' && dirname(directory) !== directory; directory = dirname(directory)) {
    const manifest = readManifest(join(directory, 'package.json'));
    if (manifest?.name === packageName) return typeof manifest.version === 'string' ? manifest.version : undefined;
  }
  return undefined;
}

function resolveEntry(packageName: string, from: string | URL): string | undefined {
  try {
    return createRequire(from).resolve(packageName);
  } catch {
    // Not installed, or no `require`/`default` export: look for it where Node's ESM resolver would.
    const start = typeof from === 'string' && !from.startsWith('file:') ? from : fileURLToPath(from);
    for (let directory = dirname(start); ; directory = dirname(directory)) {
      const manifest = join(directory, 'node_modules', packageName, 'package.json');
      if (existsSync(manifest)) return manifest;
      if (dirname(directory) === directory) return undefined;
    }
  }
}

function readManifest(path: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}
