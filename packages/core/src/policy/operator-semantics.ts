import type { ConditionOperator } from '../spec/condition-operator.js';
import { compileMatchPattern } from './match-pattern.js';
import { FALSE, TRUE, UNKNOWN, type Truth } from './truth.js';

/**
 * The meaning of each condition operator, written plainly. The compiled evaluator specializes the
 * same rules into closures; property tests check the two agree.
 */

const NUMERIC_STRING = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/** A finite number from a number or a decimal numeric string (`"100"`, `" 1.5e3 "`); otherwise `undefined`. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && NUMERIC_STRING.test(value)) {
    const number = Number(value);
    return Number.isFinite(number) ? number : undefined;
  }
  return undefined;
}

/** String, number, boolean or null. */
export function isScalar(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** `eq` semantics: a number operand compares numerically (numeric strings count); otherwise deep JSON equality. */
export function valuesEqual(value: unknown, operand: unknown): boolean {
  if (typeof operand === 'number') return toNumber(value) === operand;
  return deepEqual(value, operand);
}

/** Structural equality of JSON values. */
export function deepEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  if (Array.isArray(left)) {
    const other = right as unknown[];
    if (left.length !== other.length) return false;
    for (let index = 0; index < left.length; index += 1) if (!deepEqual(left[index], other[index])) return false;
    return true;
  }
  const leftKeys = Object.keys(left);
  if (leftKeys.length !== Object.keys(right).length) return false;
  for (const key of leftKeys) {
    if (!Object.hasOwn(right, key) || !deepEqual((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** Names every plain object inherits (`constructor`, `__proto__`, `toString`, …). */
const INHERITED_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Whether a path segment names something plain objects inherit, so reading it must check ownership. */
export function isInheritedName(segment: string): boolean {
  return INHERITED_NAMES.has(segment);
}

/**
 * Reads a dotted path (already split, without its `args`/`context` root) in JSON data; numeric
 * segments index arrays. Only data counts: a segment naming an `Object.prototype` member
 * (`__proto__`, `constructor`, …) reads only an own property, and a function (an inherited method
 * such as `list.map`; JSON holds none) reads as missing — so a path never reaches a prototype.
 */
export function readPath(root: unknown, segments: readonly string[]): unknown {
  let value = root;
  for (let index = 0; index < segments.length; index += 1) {
    if (value === null || typeof value !== 'object') return undefined;
    const segment = segments[index] as string;
    if (INHERITED_NAMES.has(segment) && !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return typeof value === 'function' ? undefined : value;
}

/** `true` for a value that `exists` counts as present (anything but missing or null). */
export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * Judges one operator against a value, three-valued. `value` is `undefined` when the path is
 * missing: unknown for every operator except `exists`, which judges presence itself.
 */
export function judgeOperator(operator: ConditionOperator, value: unknown, operand: unknown): Truth {
  if (operator === 'exists') return isPresent(value) === operand ? TRUE : FALSE;
  if (value === undefined) return UNKNOWN;
  switch (operator) {
    case 'eq':
      return valuesEqual(value, operand) ? TRUE : FALSE;
    case 'ne':
      return valuesEqual(value, operand) ? FALSE : TRUE;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const number = toNumber(value);
      if (number === undefined) return UNKNOWN;
      const limit = operand as number;
      const holds =
        operator === 'gt' ? number > limit : operator === 'gte' ? number >= limit : operator === 'lt' ? number < limit : number <= limit;
      return holds ? TRUE : FALSE;
    }
    case 'in':
    case 'not_in': {
      if (!isScalar(value)) return UNKNOWN;
      const found = (operand as unknown[]).some((candidate) => valuesEqual(value, candidate));
      return found === (operator === 'in') ? TRUE : FALSE;
    }
    case 'contains':
      if (typeof value === 'string') return typeof operand === 'string' ? (value.includes(operand) ? TRUE : FALSE) : UNKNOWN;
      if (Array.isArray(value)) return value.some((item) => valuesEqual(item, operand)) ? TRUE : FALSE;
      return UNKNOWN;
    case 'starts_with':
      return typeof value === 'string' ? (value.startsWith(operand as string) ? TRUE : FALSE) : UNKNOWN;
    case 'ends_with':
      return typeof value === 'string' ? (value.endsWith(operand as string) ? TRUE : FALSE) : UNKNOWN;
    case 'matches':
      // The same RE2 engine as the compiled evaluator (compiled here per call: this is the plain reference).
      return typeof value === 'string' ? (compileMatchPattern(operand as string).test(value) ? TRUE : FALSE) : UNKNOWN;
  }
}
