import { describe, expect, it } from 'vitest';
import { diffArgs } from './args-diff.js';

describe('the args diff a reviewer reads', () => {
  it('lists the changed, added and removed fields, nested and in arrays, and nothing unchanged', () => {
    const agent = { to: 'acme', amount: 500, payee: { iban: 'DE89', bic: 'X' }, items: [{ qty: 1 }, { qty: 2 }], memo: 'm' };
    const edited = { to: 'acme', amount: 450, payee: { iban: 'DE00', bic: 'X' }, items: [{ qty: 1 }], note: 'checked' };
    expect(diffArgs(agent, edited)).toEqual([
      { path: 'amount', before: '500', after: '450' },
      { path: 'payee.iban', before: '"DE89"', after: '"DE00"' },
      { path: 'items[1].qty', before: '2', after: undefined },
      { path: 'memo', before: '"m"', after: undefined },
      { path: 'note', before: undefined, after: '"checked"' },
    ]);
    expect(diffArgs(agent, structuredClone(agent))).toEqual([]);
  });

  it('tells a number from a string, escapes hidden characters and cuts long values', () => {
    expect(diffArgs({ amount: 500 }, { amount: '500' })).toEqual([{ path: 'amount', before: '500', after: '"500"' }]);
    const [change] = diffArgs({ to: 'acme' }, { to: `mallory\u202e${'x'.repeat(500)}` });
    expect(change?.after).toMatch(/^"mallory\\u202ex+…$/);
    expect(change?.after?.length).toBeLessThan(220);
  });
});
