import { readInstalledVersion, SignoffError } from '@signoff/core';

/**
 * The `@mastra/core` versions this adapter was built and tested for (its peer dependency range):
 * it relies on `listSuspendedRuns` and on `approveToolCallGenerate` / `declineToolCallGenerate`
 * taking the exact `toolCallId`; 1.71 is the oldest release it was tested with.
 *
 * @example
 * console.log(`@signoff/mastra needs @mastra/core ${SUPPORTED_MASTRA_RANGE}`);
 */
export const SUPPORTED_MASTRA_RANGE = '^1.71.0';
const SUPPORTED_MAJOR = 1;
const LOWEST_MINOR = 71;

/**
 * Throws `CONFIG_INVALID` unless `version` is a `@mastra/core` release this adapter supports
 * (1.71 or later 1.x). Without an argument it checks the `@mastra/core` installed next to this
 * package, which {@link withSignoff} and {@link resumeWithSignoff} do when they are set up.
 *
 * @example
 * assertSupportedMastraVersion(); // at start-up
 * assertSupportedMastraVersion('1.20.0'); // throws SignoffError CONFIG_INVALID naming 1.20.0 and ^1.71.0
 */
export function assertSupportedMastraVersion(version: string = installedMastraVersion()): void {
  const match = /^v?(\d+)\.(\d+)\./.exec(version.trim());
  if (match && Number(match[1]) === SUPPORTED_MAJOR && Number(match[2]) >= LOWEST_MINOR) return;
  throw new SignoffError('CONFIG_INVALID', `@signoff/mastra supports @mastra/core ${SUPPORTED_MASTRA_RANGE}, but the installed @mastra/core is ${version}; install @mastra/core@${SUPPORTED_MASTRA_RANGE}`);
}

let installed: string | undefined;

/** The version of the `@mastra/core` this package imports. Internal. */
function installedMastraVersion(): string {
  installed ??= readInstalledVersion('@mastra/core', import.meta.url);
  if (installed) return installed;
  throw new SignoffError('CONFIG_INVALID', '@signoff/mastra could not find the installed @mastra/core; install it next to @signoff/mastra');
}
