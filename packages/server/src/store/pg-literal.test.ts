import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgLiteral } from './pg-literal.js';

const url = process.env.SIGNOFF_TEST_POSTGRES_URL;
const hostile = ["it's", 'back\\slash', "\\'; DROP TABLE approval_requests; --", "E'x'", "''", '\\\\', 'line\nbreak\ttab', 'ünïcødé ✓ 🧾', '$1 $$ $tag$', '{"json": "\\u0000 escaped"}', ''];

describe('pgLiteral', () => {
  it('writes the values a create sends', () => {
    expect(pgLiteral(null)).toBe('NULL');
    expect(pgLiteral(true)).toBe('TRUE');
    expect(pgLiteral(42)).toBe('42');
    expect(pgLiteral("it's")).toBe("E'it''s'");
    expect(pgLiteral([])).toBe("'{}'");
    expect(pgLiteral(['a', null])).toBe("ARRAY[E'a',NULL]");
  });

  it('refuses what it cannot write exactly', () => {
    expect(() => pgLiteral('a\u0000b')).toThrow(/U\+0000/);
    expect(() => pgLiteral(['ok', '\u0000'])).toThrow(/U\+0000/);
    expect(() => pgLiteral(1.5)).toThrow(/integer/);
    expect(() => pgLiteral(Number.NaN)).toThrow(/integer/);
  });

  it.skipIf(!url)('reads back byte for byte in PostgreSQL, whatever standard_conforming_strings says', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const conforming of ['on', 'off']) {
        await client.query(`SET standard_conforming_strings = ${conforming}`);
        for (const text of hostile) {
          const { rows } = await client.query<{ value: string; list: (string | null)[] }>(`SELECT ${pgLiteral(text)}::text AS value, ${pgLiteral([text, null, text])}::text[] AS list`);
          expect(rows[0]).toEqual({ value: text, list: [text, null, text] });
        }
      }
    } finally {
      await client.end();
    }
  });
});
