import type { RecordedCall } from '../spec/recorded-call.js';
import type { CompiledPolicy } from './compile-policy.js';
import { historyKeysOf, type HistoryReader } from './gather-history-facts.js';

/** Call history held in memory, indexed for one compiled policy: what `replayPolicy` walks through. */
export interface MemoryHistory extends HistoryReader {
  /** Adds a call (in time order) under the keys the policy looks it up by. */
  record(call: RecordedCall): void;
}

/**
 * An in-memory {@link HistoryReader} over calls recorded in time order, indexed for `compiled`'s
 * history conditions (so a candidate policy with new `per` paths finds the old calls too).
 *
 * @example
 * const history = createMemoryHistory(compilePolicy(policy));
 * history.record({ id: 'c1', at: Date.now(), tool: 'refund.create', args: {}, action: 'allow', ruleId: null });
 */
export function createMemoryHistory(compiled: CompiledPolicy): MemoryHistory {
  const byKey = new Map<string, RecordedCall[]>();
  return {
    record(call) {
      for (const key of historyKeysOf(compiled, call)) {
        const calls = byKey.get(key) ?? [];
        calls.push(call);
        byKey.set(key, calls);
      }
    },
    async read({ keys, since }) {
      const found = new Map<string, RecordedCall>();
      for (const key of keys) for (const call of byKey.get(key) ?? []) if (call.at >= since) found.set(call.id, call);
      return [...found.values()];
    },
  };
}
