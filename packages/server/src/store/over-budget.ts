import type { BudgetExceeded, CreateChecks } from './store.js';

/**
 * Which budget a new pending request would break, if any: checked in the create transaction with
 * counts read there (pending = not yet past its deadline; per hour = opened in the rolling hour).
 * Counts are read lazily, so an unlimited budget costs no query.
 *
 * @example
 * const exceeded = overBudget({ maxPending: 5 }, { pending: () => 5, sinceHour: () => 0 }); // { budget: 'max_pending', limit: 5, count: 5 }
 */
export function overBudget(
  budget: Pick<NonNullable<CreateChecks['budget']>, 'maxPending' | 'maxPerHour'>,
  counts: { readonly pending: () => number; readonly sinceHour: () => number },
): BudgetExceeded | undefined {
  if (budget.maxPending !== undefined) {
    const count = counts.pending();
    if (count >= budget.maxPending) return { budget: 'max_pending', limit: budget.maxPending, count };
  }
  if (budget.maxPerHour !== undefined) {
    const count = counts.sinceHour();
    if (count >= budget.maxPerHour) return { budget: 'max_escalations_per_hour', limit: budget.maxPerHour, count };
  }
  return undefined;
}
