import { readInstalledVersion, SignoffError } from '@signoff/core';

/**
 * The `ai` versions this adapter was built and tested for (its peer dependency range).
 *
 * @example
 * console.log(`@signoff/ai-sdk needs ai ${SUPPORTED_AI_RANGE}`);
 */
export const SUPPORTED_AI_RANGE = '^7.0.0';
const SUPPORTED_MAJOR = 7;

/**
 * Throws `CONFIG_INVALID` unless `version` is an `ai` release this adapter supports (7.x). Without
 * an argument it checks the `ai` package installed next to this one, which is what
 * {@link signoffToolApproval} and {@link withSignoff} do when they are set up: `ai` 6 ignores
 * `toolApproval`, so under it an escalated call would not pause (the wrapped tools still refuse to
 * run it, but the app would not work as written). npm on Node 20 may silently install `ai` 6:
 * install `ai@^7`.
 *
 * @example
 * assertSupportedAiVersion(); // at start-up, before the first generateText
 * assertSupportedAiVersion('6.0.326'); // throws SignoffError CONFIG_INVALID naming 6.0.326 and ^7.0.0
 */
export function assertSupportedAiVersion(version: string = installedAiVersion()): void {
  const major = Number(/^v?(\d+)\./.exec(version.trim())?.[1]);
  if (major === SUPPORTED_MAJOR) return;
  throw new SignoffError(
    'CONFIG_INVALID',
    `@signoff/ai-sdk supports ai ${SUPPORTED_AI_RANGE} (7.x), but the installed ai is ${version}; install ai@^7 (npm on Node 20 may pick ai 6 unless you ask for ^7)`,
  );
}

const checked = new Map<string, string>();

/**
 * The version of the `ai` package that code at `from` imports, read from its package.json through
 * Node's resolver (the same one an ESM `import 'ai'` uses, for npm, pnpm and yarn layouts alike).
 * Internal; exported for tests.
 */
export function installedAiVersion(from: string | URL = import.meta.url): string {
  const key = String(from);
  const cached = checked.get(key);
  if (cached) return cached;
  const version = readInstalledVersion('ai', from);
  if (!version) throw new SignoffError('CONFIG_INVALID', `@signoff/ai-sdk could not find the installed ai package from ${key}; install ai@^7 next to it`);
  checked.set(key, version);
  return version;
}
