import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A package as Node would load it: its version (`undefined` if the manifest has none) and where its manifest is. */
export interface InstalledPackage {
  readonly version: string | undefined;
  readonly manifest: string;
}

/**
 * The package `packageName` as Node would load it from the module at `from`, read from the
 * package's own package.json. The adapters use it to refuse a framework major they were not built
 * for. Many packages (`openai`, `@openai/agents`, `langchain`, the Claude Agent SDK) do not export
 * their package.json, so this resolves the entry point the way Node does (`createRequire(from)`,
 * which also honours workspaces and Plug'n'Play) and walks up to the manifest with that name,
 * skipping nested ones such as `dist/package.json`; a package with only `import` exports is found by
 * walking up the `node_modules` folders instead. `undefined` when it is not installed.
 *
 * @example
 * findInstalledPackage('ai', import.meta.url); // { version: '7.0.3', manifest: '/app/node_modules/ai/package.json' }
 */
export function findInstalledPackage(packageName: string, from: string | URL): InstalledPackage | undefined {
  const entry = resolveEntry(packageName, from);
  if (entry === undefined) return undefined;
  for (let directory = dirname(entry); basename(directory) !== 'node_modules' && dirname(directory) !== directory; directory = dirname(directory)) {
    const manifest = join(directory, 'package.json');
    const contents = readManifest(manifest);
    if (contents?.name === packageName) return { version: typeof contents.version === 'string' ? contents.version : undefined, manifest };
  }
  return undefined;
}

/**
 * The installed version of `packageName` as seen from `from` (see {@link findInstalledPackage}).
 *
 * @example
 * readInstalledVersion('@openai/agents', import.meta.url); // '0.20.0'
 */
export function readInstalledVersion(packageName: string, from: string | URL): string | undefined {
  return findInstalledPackage(packageName, from)?.version;
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
