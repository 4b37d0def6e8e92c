/**
 * Which earlier calls a history condition looks at: those within `withinMs` before this call that
 * share this call's values at every `per` path.
 *
 * @example
 * const window: HistoryWindow = { withinMs: 3_600_000, per: ['context.agent', 'args.to'] };
 */
export interface HistoryWindow {
  /** How far back, in milliseconds (`within: 1h` → 3600000). */
  readonly withinMs: number;
  /** Paths (`args.…` / `context.…`) whose values partition the history; empty = every call of the tool. */
  readonly per: readonly string[];
}
