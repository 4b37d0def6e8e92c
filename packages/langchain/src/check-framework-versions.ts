import { findInstalledPackage, SignoffError } from '@signoff/core';

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
  for (const framework of SUPPORTED_FRAMEWORKS) {
    const installed = findInstalledPackage(framework.name, options.from ?? import.meta.url);
    if (installed === undefined) continue;
    const version = /^(\d+)\.(\d+)\.(\d+)/.exec(installed.version ?? '')?.slice(1).map(Number);
    const [major, minor, patch] = version ?? [];
    const [minMajor, minMinor, minPatch] = framework.minimum;
    const supported =
      major === minMajor && minor !== undefined && patch !== undefined && (minor > minMinor || (minor === minMinor && patch >= minPatch));
    if (!supported) {
      throw new SignoffError(
        'CONFIG_INVALID',
        `@signoff/langchain supports ${framework.name} ${framework.range}, but ${framework.name} ${installed.version ?? 'without a version'} is installed (${installed.manifest}); ` +
          `install ${framework.name}@^${minMajor} (npm: npm install ${framework.name}@^${minMajor})`,
      );
    }
  }
  if (options.from === undefined) verified = true;
}
