import { SignoffError } from './errors/signoff-error.js';

/** Keys JSON can quote without escaping, so quoting them needs no `JSON.stringify`. */
const PLAIN_KEY = /^[\w $.@:/-]*$/;
/** Keys already quoted: the same few keys (`id`, `tool`, `args`, …) recur in every request and entry. */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_KEPT = 4_096;

function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = PLAIN_KEY.test(key) ? `"${key}"` : JSON.stringify(key);
    if (quotedKeys.size >= QUOTED_KEYS_KEPT) quotedKeys.clear();
    quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * Serializes a JSON value with object keys sorted (by UTF-16 code units) and no whitespace: the
 * JSON Canonicalization Scheme (RFC 8785), since JS number and string formatting already match it.
 * Equal data gives equal bytes, whatever the key order, so hashes of it can bind an approval.
 * Like `JSON.stringify`, it honours `toJSON`, drops `undefined` object members and writes
 * non-finite numbers as `null`; cycles and bigints throw `INVALID_ARGUMENT`.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return write(value, []) ?? 'null';
}

function write(value: unknown, ancestors: object[]): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new SignoffError('INVALID_ARGUMENT', 'canonicalJson: cannot serialize a bigint');
  }
  const object = value as { toJSON?: () => unknown };
  if (typeof object.toJSON === 'function') return write(object.toJSON(), ancestors);
  if (ancestors.includes(object)) throw new SignoffError('INVALID_ARGUMENT', 'canonicalJson: value has a cycle');
  ancestors.push(object);
  let text: string;
  if (Array.isArray(object)) {
    text = '[';
    for (let index = 0; index < object.length; index += 1) {
      if (index > 0) text += ',';
      text += write(object[index], ancestors) ?? 'null';
    }
    text += ']';
  } else {
    const keys = Object.keys(object).sort();
    text = '{';
    for (const key of keys) {
      const member = write((object as Record<string, unknown>)[key], ancestors);
      if (member === undefined) continue;
      if (text.length > 1) text += ',';
      text += `${quoteKey(key)}:${member}`;
    }
    text += '}';
  }
  ancestors.pop();
  return text;
}
