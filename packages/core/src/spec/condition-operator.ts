/**
 * A comparison a condition applies to a value (canonical snake_case spelling; the loader also
 * accepts `startsWith`, `endsWith` and `notIn`). `not`, `any` and `all` combine conditions and
 * are represented by {@link Condition} kinds instead.
 *
 * @example
 * const operator: ConditionOperator = 'ends_with';
 */
export type ConditionOperator =
  | 'eq'
  | 'ne'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'in'
  | 'not_in'
  | 'contains'
  | 'starts_with'
  | 'ends_with'
  | 'matches'
  | 'exists';
