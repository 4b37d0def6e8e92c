import type { BudgetExceeded, CreateChecks } from './store.js';

/**
 * Which budget a new pending request would break, if any: checked in the create transaction with
 * counts read there (pending = not yet past its deadline; per hour = opened in the rolling hour).
 * Counts are read lazily, so an unlimited budget costs no query, and only up to the limit (the
 * store may stop counting there), so a budget costs at most `limit` index entries per create.
 *
 * @example
 * const exceeded = overBudget({ maxPending: 5 }, { pending: (limit) => Math.min(5, limit), sinceHour: () => 0 }); // { budget: 'max_pending', limit: 5, count: 5 }
 */
export function overBudget(
  budget: Pick<NonNullable<CreateChecks['budget']>, 'maxPending' | 'maxPerHour'>,
  counts: { readonly pending: (limit: number) => number; readonly sinceHour: (limit: number) => number },
): BudgetExceeded | undefined {
  if (budget.maxPending !== undefined) {
    const count = counts.pending(budget.maxPending);
    if (count >= budget.maxPending) return { budget: 'max_pending', limit: budget.maxPending, count };
  }
  if (budget.maxPerHour !== undefined) {
    const count = counts.sinceHour(budget.maxPerHour);
    if (count >= budget.maxPerHour) return { budget: 'max_escalations_per_hour', limit: budget.maxPerHour, count };
  }
  return undefined;
}
