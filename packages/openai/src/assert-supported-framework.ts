import { SignoffError } from '@signoff/core';
import { readInstalledVersion } from './read-installed-version.js';

/** The framework majors this package was built and tested against. */
const SUPPORTED = {
  openai: { range: '>=7.0.0 <8', accepts: (major: number) => major === 7 },
  '@openai/agents': { range: '>=0.20.0 <1', accepts: (major: number, minor: number) => major === 0 && minor >= 20 },
} as const;

export type SupportedFramework = keyof typeof SUPPORTED;

const checked = new Set<string>();

/**
 * Refuses to set up the adapter on a framework version it was not built for: another major may
 * ignore or reinterpret the hooks Signoff relies on (`needsApproval`, tool input guardrails), and npm
 * on Node 20 may silently install an older major than the one asked for. Called when an adapter
 * function is first used, never at import; throws `CONFIG_INVALID` naming the installed version and
 * the supported range.
 *
 * @example
 * assertSupportedFramework('@openai/agents'); // throws on @openai/agents 1.x or 0.19
 */
export function assertSupportedFramework(framework: SupportedFramework, readVersion: (packageName: string) => string | undefined = readInstalledVersion): void {
  if (readVersion === readInstalledVersion && checked.has(framework)) return;
  const { range, accepts } = SUPPORTED[framework];
  const version = readVersion(framework);
  const install = `install a supported version (npm install ${framework}@"${range}")`;
  if (version === undefined) {
    throw new SignoffError('CONFIG_INVALID', `@signoff/openai needs ${framework} ${range}, and none is installed where @signoff/openai can load it: ${install}`);
  }
  const [major, minor] = version.split('.').map((part) => Number.parseInt(part, 10));
  if (major === undefined || minor === undefined || !accepts(major, minor)) {
    throw new SignoffError('CONFIG_INVALID', `@signoff/openai supports ${framework} ${range}, but ${framework}@${version} is installed: ${install}`);
  }
  if (readVersion === readInstalledVersion) checked.add(framework);
}
