import { historyKey, type RecordedCall } from '@signoff/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallHistory } from './call-history.js';

const T0 = Date.parse('2026-12-07T12:00:00Z');
const KEY_A = historyKey('refund_create', ['context.user'], ['u1']);
const KEY_B = historyKey('refund_create', ['context.user'], ['u2']);

export function recordedCall(id: string, at: number, overrides: Partial<RecordedCall> = {}): RecordedCall {
  return { id, at, tool: 'refund_create', args: { amount: 10 }, context: { user: 'u1' }, action: 'allow', ruleId: 'refunds', ...overrides };
}

/**
 * What every call history must do, run against SQLite and PostgreSQL. `open` returns a fresh,
 * empty history; `openReplica` (PostgreSQL) a second one on the same tables, as another replica.
 */
export function describeCallHistoryContract(name: string, open: () => Promise<CallHistory>, openReplica?: (first: CallHistory) => Promise<CallHistory>): void {
  describe(`${name} call history`, () => {
    const opened: CallHistory[] = [];
    const fresh = async () => {
      const history = await open();
      opened.push(history);
      return history;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((history) => history.close()));
    });

    it('reads the calls recorded under any of the keys since a time, each once', async () => {
      const history = await fresh();
      await history.record([
        { call: recordedCall('c1', T0), keys: [KEY_A] },
        { call: recordedCall('c2', T0 + 1_000), keys: [KEY_A, KEY_B] },
        { call: recordedCall('c3', T0 + 2_000, { context: { user: 'u2' } }), keys: [KEY_B] },
      ]);
      const ids = async (keys: string[], since: number) => (await history.read({ keys, since })).map((call) => call.id).sort();
      expect(await ids([KEY_A], T0)).toEqual(['c1', 'c2']);
      expect(await ids([KEY_A], T0 + 1)).toEqual(['c2']);
      expect(await ids([KEY_A, KEY_B], T0)).toEqual(['c1', 'c2', 'c3']);
      expect(await ids([], T0)).toEqual([]);
      expect((await history.read({ keys: [KEY_B], since: T0 + 2_000 }))[0]).toEqual(recordedCall('c3', T0 + 2_000, { context: { user: 'u2' } }));
    });

    it('records a call id once, however often it is sent', async () => {
      const history = await fresh();
      await history.record([{ call: recordedCall('c1', T0), keys: [KEY_A] }]);
      await history.record([{ call: recordedCall('c1', T0 + 5, { action: 'deny' }), keys: [KEY_A, KEY_B] }]);
      expect(await history.read({ keys: [KEY_A, KEY_B], since: 0 })).toEqual([recordedCall('c1', T0)]);
    });

    it('lists calls oldest first a page at a time, indexes old calls under new keys, and prunes by time', async () => {
      const history = await fresh();
      await history.record([3, 1, 2, 4].map((minute) => ({ call: recordedCall(`c${minute}`, T0 + minute * 60_000), keys: [] })));
      const first = await history.list(T0 + 60_000, { limit: 2 });
      expect(first.map((call) => call.id)).toEqual(['c1', 'c2']);
      const last = first.at(-1) as RecordedCall;
      expect((await history.list(T0 + 60_000, { after: { at: last.at, id: last.id }, limit: 10 })).map((call) => call.id)).toEqual(['c3', 'c4']);

      await history.index([{ id: 'c3', at: T0 + 180_000, keys: [KEY_B] }]);
      await history.index([{ id: 'c3', at: T0 + 180_000, keys: [KEY_B] }]);
      expect((await history.read({ keys: [KEY_B], since: 0 })).map((call) => call.id)).toEqual(['c3']);

      expect(await history.prune(T0 + 150_000)).toBe(2);
      expect((await history.list(0)).map((call) => call.id)).toEqual(['c3', 'c4']);
    });

    it('runs work on one key one at a time, so a read inside sees what the previous holder recorded', async () => {
      const history = await fresh();
      const other = openReplica ? await openReplica(history) : history;
      if (other !== history) opened.push(other);
      const decide = (on: CallHistory, id: string) =>
        on.serialize([KEY_A], async () => {
          const seen = (await on.read({ keys: [KEY_A], since: 0 })).length;
          await new Promise((resolve) => setTimeout(resolve, 20)); // widen the race a lock must close
          await on.record([{ call: recordedCall(id, T0), keys: [KEY_A] }]);
          return seen;
        });
      const seen = await Promise.all([decide(history, 'r1'), decide(other, 'r2'), decide(history, 'r3'), decide(other, 'r4')]);
      expect(seen.sort()).toEqual([0, 1, 2, 3]);
    });
  });
}
