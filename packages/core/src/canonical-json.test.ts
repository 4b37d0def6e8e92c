import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { SignoffError } from './errors/signoff-error.js';
import { hashArgs } from './hash-args.js';

/**
 * A plain reference for JSON values: sorted keys, JSON.stringify for scalars. (Building a sorted
 * object and calling JSON.stringify would not do: integer-like keys always come first in JS.)
 */
function sortedStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${sortedStringify(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('canonicalJson', () => {
  it.each([
    ['keys sorted', { b: 1, a: 2, c: 3 }, '{"a":2,"b":1,"c":3}'],
    ['nested objects sorted at every level', { z: { y: 1, x: [{ b: 1, a: 2 }] }, a: null }, '{"a":null,"z":{"x":[{"a":2,"b":1}],"y":1}}'],
    ['array order kept', [3, 1, 2], '[3,1,2]'],
    ['no whitespace', { a: [1, { b: 'x y' }] }, '{"a":[1,{"b":"x y"}]}'],
    ['integer-like keys sorted as strings', { 10: 'a', 2: 'b', 1: 'c', x: 'd' }, '{"1":"c","10":"a","2":"b","x":"d"}'],
    ['upper case before lower case', { b: 1, B: 2, a: 3, A: 4 }, '{"A":4,"B":2,"a":3,"b":1}'],
    ['empty containers', { a: {}, b: [] }, '{"a":{},"b":[]}'],
    ['scalars', [true, false, null, 0, -1.5, 'é'], '[true,false,null,0,-1.5,"é"]'],
    ['negative zero as 0', { a: -0 }, '{"a":0}'],
    ['large and small numbers as ECMAScript formats them', [1e21, 1e-7, 123456789012345680000, 0.1 + 0.2], '[1e+21,1e-7,123456789012345680000,0.30000000000000004]'],
    ['strings escaped like JSON', { s: 'quote " backslash \\ newline \n tab \t control \u0001' }, '{"s":"quote \\" backslash \\\\ newline \\n tab \\t control \\u0001"}'],
    ['keys escaped like JSON', { 'a"b': 1, 'c\\d': 2, 'e\nf': 3 }, '{"a\\"b":1,"c\\\\d":2,"e\\nf":3}'],
    ['undefined members dropped', { a: undefined, b: 1, c: undefined }, '{"b":1}'],
    ['functions and symbols dropped from objects', { f: () => 1, s: Symbol('s'), k: 1 }, '{"k":1}'],
    ['undefined, functions and symbols in arrays as null', [undefined, () => 1, Symbol('s')], '[null,null,null]'],
    ['non-finite numbers as null', { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: Number.NEGATIVE_INFINITY }, '{"a":null,"b":null,"c":null}'],
    ['toJSON honoured', { at: new Date('2026-01-02T03:04:05.000Z') }, '{"at":"2026-01-02T03:04:05.000Z"}'],
    ['toJSON result canonicalized', { v: { toJSON: (): unknown => ({ b: 1, a: [2] }) } }, '{"v":{"a":[2],"b":1}}'],
    ['toJSON returning undefined drops the member', { v: { toJSON: (): unknown => undefined }, w: 1 }, '{"w":1}'],
    ['a top-level string', 'x', '"x"'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('writes undefined at the top level as null', () => {
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('sorts keys by UTF-16 code units, not code points (RFC 8785)', () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB01 and U+E000 by code unit.
    const value = { '\uFB01': 1, '\u{1F600}': 2, '\uE000': 3, é: 4, z: 5, '': 6 };
    expect(canonicalJson(value)).toBe('{"":6,"z":5,"é":4,"\u{1F600}":2,"\uE000":3,"\uFB01":1}');
  });

  it('sorts the RFC 8785 example keys as the RFC does', () => {
    const sorted: ReadonlyArray<readonly [string, string]> = [
      ['\r', 'Carriage Return'],
      ['1', 'One'],
      ['\u0080', 'Control'],
      ['\u00f6', 'Latin Small Letter O With Diaeresis'],
      ['\u20ac', 'Euro Sign'],
      ['\u{1F600}', 'Emoji: Grinning Face'],
      ['\ufb33', 'Hebrew Letter Dalet With Dagesh'],
    ];
    const value = Object.fromEntries([...sorted].reverse());
    const expected = `{${sorted.map(([key, name]) => `${JSON.stringify(key)}:${JSON.stringify(name)}`).join(',')}}`;
    expect(canonicalJson(value)).toBe(expected);
  });

  it('is the same for the same data whatever the key order', () => {
    expect(canonicalJson({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(canonicalJson({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }));
  });

  it('serializes an object met twice without a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared, shared] })).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  });

  it.each([
    ['an object cycle', (): unknown => {
      const value: Record<string, unknown> = { a: 1 };
      value.self = value;
      return value;
    }],
    ['an array cycle', (): unknown => {
      const value: unknown[] = [1];
      value.push({ back: value });
      return value;
    }],
    ['a bigint', (): unknown => ({ amount: 10n })],
    ['a top-level bigint', (): unknown => 1n],
  ])('throws SignoffError INVALID_ARGUMENT for %s', (_name, make) => {
    let thrown: unknown;
    try {
      canonicalJson(make());
    } catch (error) {
      thrown = error;
    }
    expect(SignoffError.isInstance(thrown)).toBe(true);
    expect((thrown as SignoffError).code).toBe('INVALID_ARGUMENT');
    expect((thrown as SignoffError).message).toMatch(/^canonicalJson: /);
  });

  it('equals JSON.stringify with sorted keys for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(sortedStringify(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('is independent of key insertion order for any JSON object', () => {
    const reverseKeys = (member: unknown): unknown => {
      if (Array.isArray(member)) return member.map(reverseKeys);
      if (member === null || typeof member !== 'object') return member;
      return Object.fromEntries(Object.entries(member).reverse().map(([key, inner]) => [key, reverseKeys(inner)]));
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(reverseKeys(value))).toBe(canonicalJson(value));
      }),
      { numRuns: 300 },
    );
  });
});

describe('hashArgs', () => {
  it('is the sha256 hex of the canonical JSON', () => {
    const args = { to: 'vendor@example.com', amount: 500 };
    expect(hashArgs(args)).toBe(createHash('sha256').update('{"amount":500,"to":"vendor@example.com"}', 'utf8').digest('hex'));
  });

  it('is stable across key order, at every level', () => {
    expect(hashArgs({ amount: 500, to: { name: 'acme', iban: 'DE00' } })).toBe(hashArgs({ to: { iban: 'DE00', name: 'acme' }, amount: 500 }));
  });

  it('hashes non-ASCII text as UTF-8', () => {
    expect(hashArgs({ name: 'Zoë 😀' })).toBe(createHash('sha256').update('{"name":"Zoë 😀"}', 'utf8').digest('hex'));
  });

  it.each([
    ['a different number', { amount: 501 }],
    ['a numeric string for a number', { amount: '500' }],
    ['an extra member', { amount: 500, memo: '' }],
    ['a nested value in a list', { amount: [500] }],
  ])('changes with %s', (_name, other) => {
    expect(hashArgs(other)).not.toBe(hashArgs({ amount: 500 }));
  });

  it('ignores undefined members, as JSON transport would', () => {
    expect(hashArgs({ amount: 500, memo: undefined })).toBe(hashArgs({ amount: 500 }));
  });

  it('throws INVALID_ARGUMENT for args that are not JSON', () => {
    expect(() => hashArgs({ amount: 10n })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
