import { SignoffError } from './errors/signoff-error.js';

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
  return write(value, new Set()) ?? 'null';
}

function write(value: unknown, ancestors: Set<object>): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new SignoffError('INVALID_ARGUMENT', 'canonicalJson: cannot serialize a bigint');
  }
  const object = value as { toJSON?: () => unknown };
  if (typeof object.toJSON === 'function') return write(object.toJSON(), ancestors);
  if (ancestors.has(object)) throw new SignoffError('INVALID_ARGUMENT', 'canonicalJson: value has a cycle');
  ancestors.add(object);
  let text: string;
  if (Array.isArray(object)) {
    text = `[${object.map((item) => write(item, ancestors) ?? 'null').join(',')}]`;
  } else {
    const members: string[] = [];
    for (const key of Object.keys(object).sort()) {
      const member = write((object as Record<string, unknown>)[key], ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    text = `{${members.join(',')}}`;
  }
  ancestors.delete(object);
  return text;
}
