/** A value a statement's literal may carry: PostgreSQL converts it to the parameter's declared type. */
export type PgLiteralValue = string | number | boolean | null | readonly (string | null)[];

/**
 * A value written as SQL text, for statements sent whole in one simple-protocol message (several
 * statements in one round trip; that protocol has no parameters). Strings are `E'…'` literals with
 * quotes and backslashes doubled, read the same whatever `standard_conforming_strings` says; arrays
 * are `ARRAY[…]` of such literals; numbers must be integers. A string holding U+0000 is refused, as
 * PostgreSQL refuses it in a parameter: it would end the message's text early.
 *
 * @example
 * pgLiteral("it's"); // E'it''s'
 * pgLiteral(['a', null]); // ARRAY[E'a',NULL]
 */
export function pgLiteral(value: PgLiteralValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer for SQL: ${value}`);
    return String(value);
  }
  if (typeof value === 'string') return stringLiteral(value);
  return value.length === 0 ? "'{}'" : `ARRAY[${value.map((item) => (item === null ? 'NULL' : stringLiteral(item))).join(',')}]`;
}

function stringLiteral(text: string): string {
  if (text.includes('\u0000')) throw new TypeError('a string sent to PostgreSQL cannot hold U+0000');
  return `E'${text.replace(/['\\]/g, (character) => character + character)}'`;
}
