import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SignoffError } from '@signoff/core';

/** The framework lines this adapter was built and tested for (the peer dependency ranges). */
export const SUPPORTED_FRAMEWORKS = [
  { name: 'langchain', minimum: [1, 0, 0], range: '>=1.0.0 <2.0.0' },
  { name: '@langchain/core', minimum: [1, 1, 0], range: '>=1.1.0 <2.0.0' },
  { name: '@langchain/langgraph', minimum: [1, 0, 0], range: '>=1.0.0 <2.0.0' },
] as const;

let verified = false;

/**
 * Refuses to set the adapter up on a framework line it was not built for: another major may run
 * tools without calling `wrapToolCall`, or interrupt differently, and then nothing would be gated.
 * Reads each framework's `package.json` as the adapter itself resolves it (`createRequire` from
 * this module, so npm's hoisted and pnpm's linked layouts both work; the entry point's folders are
 * walked up when a package does not export `./package.json`). A package whose version cannot be
 * read at all (bundled into one file) is not refused: the tool-level gate still holds there.
 * Internal; `signoffMiddleware` and `wrapTool` call it. Throws `CONFIG_INVALID`.
 */
export function checkFrameworkVersions(options: { readonly from?: string | URL } = {}): void {
  if (verified && options.from === undefined) return;
  const require = createRequire(options.from ?? import.meta.url);
  for (const framework of SUPPORTED_FRAMEWORKS) {
    const installed = installedVersion(require, framework.name);
    if (installed === undefined) continue;
    const version = /^(\d+)\.(\d+)\.(\d+)/.exec(installed.version)?.slice(1).map(Number);
    const [major, minor, patch] = version ?? [];
    const [minMajor, minMinor, minPatch] = framework.minimum;
    const supported =
      major === minMajor && minor !== undefined && patch !== undefined && (minor > minMinor || (minor === minMinor && patch >= minPatch));
    if (!supported) {
      throw new SignoffError(
        'CONFIG_INVALID',
        `@signoff/langchain supports ${framework.name} ${framework.range}, but ${framework.name} ${installed.version} is installed (${installed.file}); ` +
          `install ${framework.name}@^${minMajor} (npm: npm install ${framework.name}@^${minMajor})`,
      );
    }
  }
  if (options.from === undefined) verified = true;
}

function installedVersion(require: NodeJS.Require, name: string): { version: string; file: string } | undefined {
  const file = packageJsonOf(require, name);
  if (!file) return undefined;
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  return { version: typeof version === 'string' ? version : 'without a version', file };
}

function packageJsonOf(require: NodeJS.Require, name: string): string | undefined {
  try {
    return require.resolve(`${name}/package.json`);
  } catch {
    // Not exported (or not installed): find the entry point and walk up to its own package.json.
  }
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    return undefined;
  }
  for (let directory = dirname(entry); ; directory = dirname(directory)) {
    const candidate = join(directory, 'package.json');
    try {
      if ((JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown }).name === name) return candidate;
    } catch {
      // no package.json here, or not JSON: keep walking
    }
    if (dirname(directory) === directory) return undefined;
  }
}
