import { createGuard, type Guard } from '@signoff/core';
import type { Engine, Verdict } from './engine.js';

/**
 * Signoff itself: the pure evaluation (`guard.evaluate`), or with `receipt: true` the full
 * `guard()` call that also renders the reason and builds the receipt. Used to cross-check; the
 * timing loops in main call the guard directly.
 */
export function createSignoffEngine(options: { receipt?: boolean } = {}): Engine & { readonly guard: () => Guard } {
  let guard: Guard | undefined;
  const prepared = (): Guard => {
    if (guard === undefined) throw new Error('signoff: prepare() first');
    return guard;
  };
  return {
    name: options.receipt ? 'signoff guard()' : 'signoff evaluate()',
    guard: prepared,
    prepare(workload) {
      guard = createGuard(workload.policy);
    },
    decide({ tool, args }): Verdict {
      const { action, ruleId } = options.receipt ? prepared()(tool, args) : prepared().evaluate(tool, args);
      return { action, ruleId };
    },
  };
}
