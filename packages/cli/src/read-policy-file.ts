import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadPolicy, type Policy } from '@signoff/core';

/**
 * Loads a policy from a path given on the command line (always a file, never inline text). Every
 * message names the file as it was typed, as compilers do, not its absolute path.
 */
export function readPolicyFile(path: string): Policy {
  return loadPolicy(pathToFileURL(resolve(path)), { file: path });
}
