import { describe, expect, it } from 'vitest';
import { timeOrderedId } from './time-ordered-id.js';

describe('timeOrderedId', () => {
  it('sorts as a plain string in the order of the times it was made at', () => {
    const times = [0, 1, 35, 36, 1_000, Date.parse('2026-12-08T00:00:00Z'), Date.parse('2026-12-08T00:00:00.001Z'), Date.parse('2099-01-01T00:00:00Z')];
    const ids = times.map((time) => timeOrderedId('apr_', time));
    expect([...ids].sort()).toEqual(ids);
  });

  it('is unique and unguessable: 120 random bits after the time, never handed out twice', () => {
    const at = Date.now();
    const ids = Array.from({ length: 5_000 }, () => timeOrderedId('apr_', at));
    expect(new Set(ids).size).toBe(ids.length);
    const randomParts = new Set(ids.map((id) => id.slice('apr_'.length + 9)));
    expect(randomParts.size).toBe(ids.length);
    for (const part of randomParts) expect(part).toMatch(/^[\w-]{20}$/);
  });

  it('fits the id pattern every route and channel accepts', () => {
    expect(timeOrderedId('apr_')).toMatch(/^apr_[\w-]{10,40}$/);
  });
});
