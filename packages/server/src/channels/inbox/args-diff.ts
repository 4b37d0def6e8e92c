import { revealHiddenCharacters } from '../reveal-hidden-characters.js';

/** One field a reviewer's edit changed: `amount`, `500` → `450`. A missing side means added or removed. */
export interface ArgsChange {
  /** `amount`, `payee.iban`, `items[2].qty`; hidden characters escaped. */
  readonly path: string;
  /** The agent's value as JSON, hidden characters escaped; undefined when the edit added the field. */
  readonly before: string | undefined;
  /** The edited value as JSON, hidden characters escaped; undefined when the edit removed the field. */
  readonly after: string | undefined;
}

/** A value longer than this is cut in the diff: the whole args stay on the page beside it. */
const VALUE_CHARS = 200;

/**
 * What a reviewer's edit changed, field by field, as a reviewer reads a diff: every leaf whose value
 * differs between the agent's args and the edited ones, in the order the fields appear (the agent's
 * first, then fields the edit added). Arrays compare by index.
 *
 * @example
 * diffArgs({ to: 'acme', amount: 500 }, { to: 'acme', amount: 450 }); // [{ path: 'amount', before: '500', after: '450' }]
 */
export function diffArgs(before: unknown, after: unknown): ArgsChange[] {
  const left = flatten(before);
  const right = flatten(after);
  const paths = [...new Set([...left.keys(), ...right.keys()])];
  return paths
    .filter((path) => left.get(path) !== right.get(path))
    .map((path) => ({ path: revealHiddenCharacters(path), before: shown(left.get(path)), after: shown(right.get(path)) }));
}

/** Leaf path → JSON text. An empty object or array is a leaf, so `{}` → `{"a":1}` shows as a change. */
function flatten(value: unknown, path = '', into = new Map<string, string>()): Map<string, string> {
  const container = value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
  const entries: Array<[string, unknown]> = !container
    ? []
    : Array.isArray(value)
      ? value.map((item, index) => [`${path}[${index}]`, item])
      : Object.keys(value as object).map((key) => [path ? `${path}.${key}` : key, (value as Record<string, unknown>)[key]]);
  if (entries.length === 0) {
    const text = JSON.stringify(value);
    if (text !== undefined) into.set(path || '(args)', text);
    return into;
  }
  for (const [childPath, child] of entries) flatten(child, childPath, into);
  return into;
}

function shown(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const clipped = text.length <= VALUE_CHARS ? text : `${text.slice(0, VALUE_CHARS - 1)}…`;
  return revealHiddenCharacters(clipped);
}
