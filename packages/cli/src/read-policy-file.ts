import { readFileSync } from 'node:fs';
import { parsePolicy, SignoffError, type Policy } from '@signoff/core';

/**
 * Loads a policy from a path given on the command line (always a file, never inline text). Every
 * message names the file as it was typed, as compilers do, not its absolute path.
 */
export function readPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SignoffError('POLICY_NOT_FOUND', `cannot read policy file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parsePolicy(text, { file: path });
}
