import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './cli-io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags by name (strings, or booleans for switches) and the positional arguments. */
export interface ParsedCommand {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * Parses a command's flags and exactly `positionals` positional arguments; any mistake becomes a
 * {@link UsageError} naming it.
 */
export function parseCommand(argv: readonly string[], options: Options, positionals: readonly string[]): ParsedCommand {
  let parsed: ParsedCommand;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as ParsedCommand; // no `multiple` options here
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length !== positionals.length) {
    throw new UsageError(`expected ${positionals.map((name) => `<${name}>`).join(' ')}, got ${parsed.positionals.length} argument(s)`);
  }
  return parsed;
}

/** Parses a JSON flag value, naming the flag when it is not JSON. */
export function parseJsonFlag(flag: string, text: string | undefined, fallback: unknown): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--${flag} is not valid JSON: ${(error as Error).message}`);
  }
}
