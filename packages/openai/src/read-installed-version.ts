import { readInstalledVersion as readInstalledVersionFrom } from '@signoff/core';

/** The version of `packageName` that this package loads (resolved from here, as its imports are), or `undefined`. */
export function readInstalledVersion(packageName: string): string | undefined {
  return readInstalledVersionFrom(packageName, import.meta.url);
}
