import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadPolicy, type Policy } from '@signoff/core';

/** Loads a policy from a path given on the command line (always a file, never inline text). */
export function readPolicyFile(path: string): Policy {
  return loadPolicy(pathToFileURL(resolve(path)));
}
