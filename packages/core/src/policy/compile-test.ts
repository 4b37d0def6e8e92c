import type { ConditionOperator } from '../spec/condition-operator.js';
import { compileMatchPattern, type MatchPattern } from './match-pattern.js';
import { deepEqual, isInheritedName, isPresent, isScalar, readPath, toNumber, valuesEqual } from './operator-semantics.js';
import { FALSE, TRUE, UNKNOWN, type Truth } from './truth.js';

/** A compiled condition: three-valued, and allocation-free (`matches` aside: see {@link compileMatchPattern}). */
export type Evaluator = (args: unknown, context: unknown) => Truth;

/** Where a test that turned out unknown leaves the id of its path, for the caller to read at once. */
export interface UnknownPathSlot {
  unknownPathId: number;
}

// Numeric opcodes: one closure per test switches on them, rather than calling a closure per
// operator, because after the first few rules every call site is megamorphic and calls dominate.
const OPCODES: Record<ConditionOperator, number> = {
  eq: 0,
  ne: 1,
  gt: 2,
  gte: 3,
  lt: 4,
  lte: 5,
  in: 6,
  not_in: 7,
  contains: 8,
  starts_with: 9,
  ends_with: 10,
  matches: 11,
  exists: 12,
};

/**
 * Compiles one `path operator operand` test into a single closure: the path read is inlined for
 * the common one-segment case, operands are prepared once (numbers, a Set for `in`, the compiled
 * RE2 pattern for `matches`), and a missing value is unknown for every operator but `exists`.
 */
export function compileTest(
  path: string,
  operator: ConditionOperator,
  operand: unknown,
  pathId: number,
  slot: UnknownPathSlot,
): Evaluator {
  const [root, ...segments] = path.split('.');
  const fromArgs = root === 'args';
  // One own-data segment can be read directly; anything else goes through readPath's checks.
  const key = segments.length === 1 && !isInheritedName(segments[0] as string) ? (segments[0] as string) : undefined;
  const opcode = OPCODES[operator];
  const limit = typeof operand === 'number' ? operand : Number.NaN;
  const text = typeof operand === 'string' ? operand : '';
  const isMember = operator === 'in' || operator === 'not_in' ? compileMembership(operand as unknown[]) : undefined;
  const pattern = operator === 'matches' ? compileMatchPattern(operand as string) : undefined; // vetted at load; stateless
  const operandIsObject = operand !== null && typeof operand === 'object';

  const general: Evaluator = (args, context) => {
    const object = fromArgs ? args : context;
    let value =
      key === undefined
        ? readPath(object, segments)
        : object !== null && typeof object === 'object'
          ? (object as Record<string, unknown>)[key]
          : undefined;
    if (typeof value === 'function') value = undefined; // an inherited method (e.g. args.push on an array), not data
    let truth: Truth;
    if (opcode === 12) return isPresent(value) === operand ? TRUE : FALSE;
    if (value === undefined) truth = UNKNOWN;
    else {
      switch (opcode) {
        case 0:
        case 1: {
          const equal =
            typeof operand === 'number'
              ? value === operand || toNumber(value) === operand
              : operandIsObject
                ? deepEqual(value, operand)
                : value === operand;
          truth = equal === (opcode === 0) ? TRUE : FALSE;
          break;
        }
        case 2:
        case 3:
        case 4:
        case 5: {
          const number = typeof value === 'number' ? (Number.isFinite(value) ? value : undefined) : toNumber(value);
          if (number === undefined) truth = UNKNOWN;
          else {
            const holds = opcode === 2 ? number > limit : opcode === 3 ? number >= limit : opcode === 4 ? number < limit : number <= limit;
            truth = holds ? TRUE : FALSE;
          }
          break;
        }
        case 6:
        case 7:
          truth = isScalar(value) ? ((isMember as (value: unknown) => boolean)(value) === (opcode === 6) ? TRUE : FALSE) : UNKNOWN;
          break;
        case 8:
          truth = contains(value, operand);
          break;
        case 9:
          truth = typeof value === 'string' ? (value.startsWith(text) ? TRUE : FALSE) : UNKNOWN;
          break;
        case 10:
          truth = typeof value === 'string' ? (value.endsWith(text) ? TRUE : FALSE) : UNKNOWN;
          break;
        default:
          truth = typeof value === 'string' ? ((pattern as MatchPattern).test(value) ? TRUE : FALSE) : UNKNOWN;
      }
    }
    if (truth === UNKNOWN) slot.unknownPathId = pathId;
    return truth;
  };
  const numeric = numericTestOf(path, operator, operand);
  if (numeric === null) return general;
  // A number compared with a number is the most common test: a closure small enough for V8 to
  // inline decides a finite number itself and hands anything else (missing, strings, functions)
  // to the general one, so the semantics are the general one's. (compilePolicy's loop decides
  // the same from the rule's data when the test is the whole condition.)
  const numericKey = numeric.key;
  return (args, context) => {
    const object = fromArgs ? args : context;
    if (object !== null && typeof object === 'object') {
      const value = (object as Record<string, unknown>)[numericKey];
      if (typeof value === 'number' && value - value === 0) {
        const holds = opcode === 2 ? value > limit : opcode === 3 ? value >= limit : opcode === 4 ? value < limit : value <= limit;
        return holds ? TRUE : FALSE;
      }
    }
    return general(args, context);
  };
}

/** A number compared with a number on one own key: what the evaluation loop may decide inline. */
export interface NumericTest {
  readonly fromArgs: boolean;
  readonly key: string;
  /** 2 gt, 3 gte, 4 lt, 5 lte. */
  readonly opcode: 2 | 3 | 4 | 5;
  readonly limit: number;
}

/**
 * The test as data when it is `args.x` / `context.x` compared (`gt gte lt lte`) with a number, else
 * `null`. Such a test is decided by a finite number value alone; anything else (missing, strings,
 * non-finite) goes to the compiled closure, so the semantics stay the general one's.
 */
export function numericTestOf(path: string, operator: ConditionOperator, operand: unknown): NumericTest | null {
  const [root, ...segments] = path.split('.');
  const key = segments[0];
  const opcode = OPCODES[operator];
  if (opcode < 2 || opcode > 5 || segments.length !== 1 || key === undefined || isInheritedName(key) || typeof operand !== 'number' || Number.isNaN(operand)) return null;
  return { fromArgs: root === 'args', key, opcode: opcode as NumericTest['opcode'], limit: operand };
}

function contains(value: unknown, operand: unknown): Truth {
  if (typeof value === 'string') return typeof operand === 'string' ? (value.includes(operand) ? TRUE : FALSE) : UNKNOWN;
  if (!Array.isArray(value)) return UNKNOWN;
  for (let index = 0; index < value.length; index += 1) if (valuesEqual(value[index], operand)) return TRUE;
  return FALSE;
}

/** Membership in a list of scalars: a Set for the strings, a scan for the rest (numbers coerce). */
function compileMembership(list: readonly unknown[]): (value: unknown) => boolean {
  const strings = new Set(list.filter((item): item is string => typeof item === 'string'));
  const others = list.filter((item) => typeof item !== 'string');
  return (value) => {
    if (typeof value === 'string' && strings.has(value)) return true;
    for (let index = 0; index < others.length; index += 1) if (valuesEqual(value, others[index])) return true;
    return false;
  };
}
