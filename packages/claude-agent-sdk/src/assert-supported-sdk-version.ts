import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SignoffError } from '@signoff/core';

/**
 * The `@anthropic-ai/claude-agent-sdk` versions this adapter was built and tested for (its peer range):
 * the PreToolUse `defer` decision, `deferred_tool_use` on the result, and `onFailure: 'block'`.
 *
 * @example
 * console.log(`@signoff/claude-agent-sdk needs @anthropic-ai/claude-agent-sdk ${SUPPORTED_SDK_RANGE}`);
 */
export const SUPPORTED_SDK_RANGE = '>=0.3.332 <0.4.0';
const MINIMUM = [0, 3, 332] as const;

let verified = false;

/**
 * Throws `CONFIG_INVALID` unless `version` (default: the SDK installed next to this package) is in
 * {@link SUPPORTED_SDK_RANGE}. An older SDK may not know `defer` or `onFailure: 'block'` and then
 * run an escalated call; a newer 0.x may change the hook protocol. `signoffHooks` calls it.
 *
 * @example
 * assertSupportedSdkVersion('0.2.1'); // throws SignoffError CONFIG_INVALID
 */
export function assertSupportedSdkVersion(version?: string): void {
  if (version === undefined && verified) return;
  const installed = version ?? installedSdkVersion();
  const [major, minor, patch] = (/^(\d+)\.(\d+)\.(\d+)/.exec(installed)?.slice(1).map(Number) ?? []) as (number | undefined)[];
  const supported = major === MINIMUM[0] && minor === MINIMUM[1] && patch !== undefined && patch >= MINIMUM[2];
  if (!supported) {
    throw new SignoffError(
      'CONFIG_INVALID',
      `@signoff/claude-agent-sdk supports @anthropic-ai/claude-agent-sdk ${SUPPORTED_SDK_RANGE}, but ${installed} is installed; install @anthropic-ai/claude-agent-sdk@~0.3.332`,
    );
  }
  if (version === undefined) verified = true;
}

/** Read through Node's resolver from this module; the SDK exports no `./package.json`, so walk up from its entry point. */
function installedSdkVersion(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve('@anthropic-ai/claude-agent-sdk');
  } catch {
    return 'not installed';
  }
  for (let directory = dirname(entry); dirname(directory) !== directory; directory = dirname(directory)) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === '@anthropic-ai/claude-agent-sdk') return typeof manifest.version === 'string' ? manifest.version : 'without a version';
    } catch {
      // no package.json here: keep walking
    }
  }
  return 'of unknown version';
}
