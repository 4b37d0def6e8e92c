import { describe, expect, it } from 'vitest';
import { formatArgsForReview } from './format-args-for-review.js';

describe('formatArgsForReview', () => {
  it('puts the tested fields first, in the rule’s order, and otherwise prints like JSON.stringify', () => {
    const args = { memo: 'padding', to: 'mallory', amount: 5, note: null };
    const text = formatArgsForReview(args, ['args.amount', 'args.to', 'context.user']);
    expect(text).toBe('{\n  "amount": 5,\n  "to": "mallory",\n  "memo": "padding",\n  "note": null\n}');
    expect(JSON.parse(text)).toEqual(args);
    expect(text).toHaveLength(JSON.stringify(args, null, 2).length);
    expect(formatArgsForReview(args, [])).toBe(JSON.stringify(args, null, 2));
  });

  it('orders nested tested paths level by level and walks into array items without moving them', () => {
    const args = { items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }], payee: { memo: 'm', bank: { iban: 'X', name: 'n' } }, amount: 1 };
    const text = formatArgsForReview(args, ['args.payee.bank.iban', 'args.items.1.qty']);
    expect(text.indexOf('"payee"')).toBeLessThan(text.indexOf('"items"'));
    expect(text.indexOf('"bank"')).toBeLessThan(text.indexOf('"memo"'));
    expect(text.indexOf('"iban"')).toBeLessThan(text.indexOf('"name"'));
    expect(text.indexOf('"sku": "a"')).toBeLessThan(text.indexOf('"sku": "b"'));
    expect(text.lastIndexOf('"qty"')).toBeLessThan(text.lastIndexOf('"sku"'));
    expect(JSON.parse(text)).toEqual(args);
    expect(text).toHaveLength(JSON.stringify(args, null, 2).length);
  });

  it('shows a tested field first even behind integer-like keys, which JS objects always list first', () => {
    const args = JSON.parse('{"0": "padding", "10": "more", "to": "mallory"}');
    expect(formatArgsForReview(args, ['args.to']).split('\n')[1]).toBe('  "to": "mallory",');
  });

  it('keeps own __proto__ keys and empty containers, and escapes hidden characters', () => {
    const args = JSON.parse('{"__proto__": {"x": 1}, "to": "pay\u202Eevil\u200b", "empty": {}, "list": []}');
    const text = formatArgsForReview(args, ['args.to', 'args.__proto__.x']);
    expect(text).toContain('"to": "pay\\u202eevil\\u200b"');
    expect(text).toContain('"__proto__": {\n    "x": 1\n  }');
    expect(text).toContain('"empty": {}');
    expect(JSON.parse(text)).toEqual(args);
  });
});
