/**
 * Three-valued logic for conditions. Plain numbers (not objects) so evaluating allocates nothing.
 * UNKNOWN means a value was missing or of a type its operator cannot judge.
 */
export const FALSE = 0;
export const TRUE = 1;
export const UNKNOWN = 2;
export type Truth = typeof FALSE | typeof TRUE | typeof UNKNOWN;
