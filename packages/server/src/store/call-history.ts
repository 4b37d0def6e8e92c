import type { HistoryReader, RecordedCall } from '@signoff/core';

/** One call to record, with the history keys the policy looks it up by (see `historyKeysOf`). */
export interface CallToRecord {
  readonly call: RecordedCall;
  readonly keys: readonly string[];
}

/**
 * The control plane's call history: what history conditions (`window` aggregates, `after:`) are
 * judged over and `signoff policy replay` runs candidates on. One row per call, plus one index row
 * per (history key, call), indexed by (key, time). Kept apart from {@link Store} (its own tables and
 * connection) so a policy that judges each call alone costs nothing.
 *
 * Consistency: `serialize(keys, work)` runs `work` while no other control plane (any replica on
 * PostgreSQL, this process on SQLite) runs work on one of those keys, so a decide-then-record on one
 * partition is linearizable: a concurrent call on another replica sees this one. Calls the agent
 * reports (`POST /v1/calls`) are visible from the moment that request commits.
 */
export interface CallHistory extends HistoryReader {
  /** Records calls; a call whose id is already recorded is left as it is (reports and creates are retried). */
  record(calls: readonly CallToRecord[]): Promise<void>;
  /** Calls recorded at or after `since` (ms), oldest first, a page at a time (`after`: the last id of the previous page). */
  list(since: number, page?: { readonly after?: { readonly at: number; readonly id: string }; readonly limit?: number }): Promise<RecordedCall[]>;
  /** Adds index rows for calls already recorded (a new policy's `per` paths), skipping those that exist. */
  index(entries: readonly { readonly id: string; readonly at: number; readonly keys: readonly string[] }[]): Promise<void>;
  /** Deletes calls recorded before `before` (ms); returns how many. */
  prune(before: number): Promise<number>;
  /** Runs `work` holding a lock on each key (see the consistency note above). */
  serialize<T>(keys: readonly string[], work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Most calls one history read returns; more would be unbounded work per decision, so the read fails (fail-closed). */
export const MAX_CALLS_PER_READ = 10_000;

/** An in-process lock per key: calls on one partition are decided one at a time. */
export function createKeyLocks() {
  const tails = new Map<string, Promise<void>>();
  return async function serialize<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const before = sorted.map((key) => tails.get(key) ?? Promise.resolve());
    for (const key of sorted) tails.set(key, done);
    try {
      await Promise.all(before);
      return await work();
    } finally {
      release();
      for (const key of sorted) if (tails.get(key) === done) tails.delete(key);
    }
  };
}
