import { findInstalledPackage, SignoffError } from '@signoff/core';

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

/** The SDK this package imports, as Node resolves it from here. */
function installedSdkVersion(): string {
  const installed = findInstalledPackage('@anthropic-ai/claude-agent-sdk', import.meta.url);
  if (installed === undefined) return 'not installed';
  return installed.version ?? 'without a version';
}
