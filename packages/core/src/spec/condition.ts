import type { ConditionOperator } from './condition-operator.js';

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
    };
