import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SignoffError } from '../errors/signoff-error.js';
import type { Policy } from '../spec/policy.js';
import { parsePolicy, type ParsePolicyOptions } from './parse-policy.js';

const POLICY_FILE = /\.(?:ya?ml|json)$/i;

/**
 * Loads a policy from a file path (or `file:` URL) or from YAML text. A single-line string that
 * ends in `.yaml`, `.yml` or `.json`, or names an existing file, is read as a path; anything else
 * is parsed as the policy itself. Throws `PolicyError` (with file, line, column) when invalid and
 * `SignoffError('POLICY_NOT_FOUND')` when the file cannot be read. `options.file` names the file in
 * those messages and in `policy.file` (default: the path read), e.g. as a user typed it.
 *
 * @example
 * const policy = loadPolicy('./signoff.policy.yaml');
 * const inline = loadPolicy('rules: [{ tool: "**", action: deny }]');
 * const typed = loadPolicy(pathToFileURL(resolve(argument)), { file: argument });
 */
export function loadPolicy(source: string | URL, options: ParsePolicyOptions = {}): Policy {
  const path = source instanceof URL ? fileURLToPath(source) : isPath(source) ? source : undefined;
  if (path === undefined) return parsePolicy(source as string, options);
  const file = options.file ?? path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SignoffError('POLICY_NOT_FOUND', `cannot read policy file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parsePolicy(text, { ...options, file });
}

function isPath(source: string): boolean {
  if (source.includes('\n')) return false;
  return POLICY_FILE.test(source.trim()) || existsSync(source);
}
