import type { ConditionOperator } from './condition-operator.js';
import type { HistoryWindow } from './history-window.js';

/**
 * A rule's `when`, normalized into a tree. Evaluation is three-valued: each node is true, false or
 * unknown (a value missing, or of a type its operator cannot judge). `all` is false if any child
 * is false, else unknown if any is unknown; `any` is true if any child is true, else unknown if any
 * is unknown; `not` keeps unknown unknown.
 *
 * @example
 * const condition: Condition = {
 *   kind: 'not',
 *   condition: { kind: 'test', path: 'args.to', operator: 'ends_with', operand: '@acme.com' },
 * };
 */
export type Condition =
  | {
      /** All children must hold (a `when` map, an operator object with several operators, or `all:`). */
      readonly kind: 'all';
      /** The children, in file order. */
      readonly conditions: readonly Condition[];
    }
  | {
      /** At least one child must hold (`any:`). */
      readonly kind: 'any';
      /** The children, in file order. */
      readonly conditions: readonly Condition[];
    }
  | {
      /** The child must not hold (`not:`). */
      readonly kind: 'not';
      /** The negated condition. */
      readonly condition: Condition;
    }
  | {
      /** One operator applied to the value at `path`. */
      readonly kind: 'test';
      /** `args.…` or `context.…`, dot-separated; numeric segments index arrays. */
      readonly path: string;
      /** The comparison. */
      readonly operator: ConditionOperator;
      /** The literal the value is compared with (an RE2 pattern string for `matches`). */
      readonly operand: unknown;
    }
  | {
      /**
       * An aggregate over the recorded calls to the same tool in a window, this call included
       * (`window:` with `count:` / `sum(args.x):` / `min(…)` / `max(…)`). Unknown when the history
       * cannot be read (the agent-side guard never can: it asks the control plane).
       */
      readonly kind: 'aggregate';
      /** `count` counts calls; `sum` / `min` / `max` fold the numbers at `path`. */
      readonly aggregate: 'count' | 'sum' | 'min' | 'max';
      /** The path folded, for `sum` / `min` / `max`; `null` for `count`. */
      readonly path: string | null;
      /** Which earlier calls count. */
      readonly window: HistoryWindow;
      /** Numeric comparisons the aggregate must all pass (`{ gt: 1000 }`). */
      readonly tests: readonly { readonly operator: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; readonly operand: number }[];
    }
  | {
      /** Holds when one of `tools` was called within the window before this call (`after:`; `not_after:` is `not` over it). Unknown when the history cannot be read. */
      readonly kind: 'after';
      /** Tool names or globs (`inbox.*`). */
      readonly tools: readonly string[];
      /** Which earlier calls count. */
      readonly window: HistoryWindow;
    };
