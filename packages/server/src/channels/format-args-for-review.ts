import { revealHiddenCharacters } from './reveal-hidden-characters.js';

/**
 * The args as a reviewer reads them: pretty-printed JSON (two-space indent, like
 * `JSON.stringify(args, null, 2)`), with the fields the deciding rule tested first — at each level
 * of a tested path, its key comes before the others — and every hidden or direction-changing
 * character shown as an escape. Only the order changes, never a value, so the text still parses to
 * the same args and has the same length as the plain print.
 *
 * Objects are printed by hand because a JS object lists integer-like keys first whatever order they
 * were added in: `{ "0": <padding>, "to": "mallory" }` must still show `to` first.
 *
 * @example
 * formatArgsForReview({ memo: 'x'.repeat(5), to: 'mallory', amount: 5 }, ['args.amount', 'args.to']);
 * // '{\n  "amount": 5,\n  "to": "mallory",\n  "memo": "xxxxx"\n}'
 */
export function formatArgsForReview(args: unknown, testedPaths: readonly string[]): string {
  const argsPaths = testedPaths.filter((path) => path.startsWith('args.')).map((path) => path.split('.').slice(1));
  return revealHiddenCharacters(args === undefined ? 'undefined' : print(args, argsPaths, ''), { keepLineBreaks: true });
}

/** Prints `value` at `indent`; `paths` are the tested paths below it (segment lists). */
function print(value: unknown, paths: readonly (readonly string[])[], indent: string): string {
  // Off the tested paths the plain print is right, and bounded by JSON.stringify's own depth handling.
  if (paths.length === 0 || value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (JSON.stringify(value, null, 2) ?? 'null').replace(/\n/g, `\n${indent}`);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    // Array order is meaning: items stay where they are; a tested index is only walked into.
    const items = value.map((item: unknown, index) => `${inner}${print(item, below(paths, String(index)), inner)}`);
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  const record = value as Record<string, unknown>;
  const present = Object.keys(record).filter((key) => record[key] !== undefined && typeof record[key] !== 'function' && typeof record[key] !== 'symbol');
  if (present.length === 0) return '{}';
  const tested = [...new Set(paths.map((path) => path[0] as string))].filter((key) => present.includes(key));
  const ordered = [...tested, ...present.filter((key) => !tested.includes(key))];
  const entries = ordered.map((key) => `${inner}${JSON.stringify(key)}: ${print(record[key], below(paths, key), inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

/** The rest of each path that goes through `key`. */
function below(paths: readonly (readonly string[])[], key: string): (readonly string[])[] {
  return paths.filter((path) => path[0] === key && path.length > 1).map((path) => path.slice(1));
}
