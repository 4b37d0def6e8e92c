import * as z from 'zod';
import { strictMapping } from '../yaml/strict-mapping.js';
import { AGGREGATES, AggregateOperators, afterSchema, isHistoryKey, parseAggregateKey, windowSchema } from './history-syntax.js';
import { matchPatternProblem } from './match-pattern.js';
import { toolGlobProblem } from './tool-glob.js';

/**
 * The zod schema of a policy file as written (snake_case YAML keys, operator aliases, `when`
 * maps). `parsePolicy` validates with it, maps each issue to a line and column, then normalizes.
 */

/** Spelling accepted for each operator → its canonical name. */
export const OPERATOR_SPELLINGS = {
  eq: 'eq',
  ne: 'ne',
  gt: 'gt',
  gte: 'gte',
  lt: 'lt',
  lte: 'lte',
  in: 'in',
  not_in: 'not_in',
  notIn: 'not_in',
  contains: 'contains',
  starts_with: 'starts_with',
  startsWith: 'starts_with',
  ends_with: 'ends_with',
  endsWith: 'ends_with',
  matches: 'matches',
  exists: 'exists',
  not: 'not',
} as const;

/** A condition path: `args` or `context`, then dot-separated non-empty segments. */
export const CONDITION_PATH = /^(?:args|context)(?:\.[^.\s{}]+)*$/;

/** Longest `matches` pattern accepted; longer ones are almost always a mistake (the compiled size is bounded too). */
export const MAX_PATTERN_LENGTH = 1_000;
/** The most approvals a rule may require without a reviewer directory to check against. */
export const MAX_REQUIRED_APPROVALS = 100;
/** 30 days: an approval window longer than this is treated as a typo. */
const MAX_TIMEOUT_MINUTES = 43_200;

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: 'expected a string, number, boolean or null',
});

const JsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([Scalar, z.array(JsonValue), z.record(z.string(), JsonValue)], { error: 'expected a JSON value' }),
);

const Pattern = z
  .string({ error: 'expected a regular expression as a string' })
  .max(MAX_PATTERN_LENGTH, `expected a pattern of at most ${MAX_PATTERN_LENGTH} characters`)
  .superRefine((pattern, context) => {
    const problem = matchPatternProblem(pattern);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });

/** Operator object: `{ gt: 100 }`, `{ not: { ends_with: '@acme.com' } }`, several operators = AND. */
export const Operators: z.ZodType<Record<string, unknown>> = z.lazy(() =>
  strictMapping(
    {
      eq: JsonValue.optional(),
      ne: JsonValue.optional(),
      gt: numberOperand().optional(),
      gte: numberOperand().optional(),
      lt: numberOperand().optional(),
      lte: numberOperand().optional(),
      in: scalarList().optional(),
      not_in: scalarList().optional(),
      notIn: scalarList().optional(),
      contains: Scalar.optional(),
      starts_with: stringOperand().optional(),
      startsWith: stringOperand().optional(),
      ends_with: stringOperand().optional(),
      endsWith: stringOperand().optional(),
      matches: Pattern.optional(),
      exists: z.boolean({ error: 'expected true or false' }).optional(),
      not: Operators.optional(),
    },
    'operator',
  ),
);

/** A `when` map: condition paths → literal or operators; `any` / `all` → lists of `when` maps. */
export const When: z.ZodType<Record<string, unknown>> = z.lazy(() =>
  z.record(z.string(), z.unknown(), { error: 'expected a mapping of conditions (path: condition)' }).superRefine(
    (when, context) => {
      for (const [key, condition] of Object.entries(when)) {
        const issues =
          key === 'any' || key === 'all'
            ? WhenList.safeParse(condition, { reportInput: true }).error?.issues
            : isHistoryKey(key)
              ? historyIssues(key, condition, when)
              : conditionIssues(key, condition);
        for (const issue of issues ?? []) context.addIssue({ ...issue, path: [key, ...(issue.path ?? [])] } as never);
      }
    },
  ),
);

const WhenList = z.array(When, { error: 'expected a list of condition mappings' }).min(1, 'expected at least one condition mapping');

/** `window`, `after` and aggregates: their shape, and that aggregates and their `window` come together. */
function historyIssues(key: string, condition: unknown, when: Record<string, unknown>): z.core.$ZodRawIssue[] | undefined {
  const keyIssue = (message: string): z.core.$ZodRawIssue[] => [{ code: 'custom', path: [], input: key, params: { at: 'key' }, message }];
  if (key === 'window') {
    if (!Object.keys(when).some((other) => other !== 'window' && parseAggregateKey(other) !== undefined)) {
      return keyIssue("a window needs an aggregate beside it, e.g. count: { gte: 3 } or sum(args.amount): { gt: 1000 }");
    }
    return windowSchema(CONDITION_PATH).safeParse(condition, { reportInput: true }).error?.issues as z.core.$ZodRawIssue[] | undefined;
  }
  if (key === 'after' || key === 'not_after') return afterSchema(CONDITION_PATH).safeParse(condition, { reportInput: true }).error?.issues as z.core.$ZodRawIssue[] | undefined;
  const { aggregate, path } = parseAggregateKey(key) as { aggregate: string; path: string | null };
  if (!(AGGREGATES as readonly string[]).includes(aggregate) || (aggregate === 'count') !== (path === null)) {
    const hint = aggregate === 'count' ? " (count takes no path: write 'count')" : '';
    return keyIssue(`unknown aggregate '${key}': expected count, sum(path), min(path) or max(path)${hint}`);
  }
  if (path !== null && !CONDITION_PATH.test(path)) return keyIssue(`unknown path '${path}' in ${aggregate}(…): expected a path starting with 'args.' or 'context.', like args.amount`);
  if (!('window' in when)) return keyIssue(`${key} needs a window in the same condition map, e.g. window: { within: 1h, per: [context.agent] }`);
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) {
    return [{ code: 'custom', path: [], input: condition, message: `expected comparisons for ${key}, e.g. { gt: 1000 }` }];
  }
  if (Object.keys(condition).length === 0) return [{ code: 'custom', path: [], input: condition, message: 'expected at least one comparison, e.g. { gt: 1000 }' }];
  return AggregateOperators.safeParse(condition, { reportInput: true }).error?.issues as z.core.$ZodRawIssue[] | undefined;
}

function conditionIssues(key: string, condition: unknown): z.core.$ZodRawIssue[] | undefined {
  if (!CONDITION_PATH.test(key)) {
    if (/^(?:args|context)(?:\.|$)/.test(key)) {
      return [{ code: 'custom', path: [], input: key, params: { at: 'key' }, message: `unknown condition '${key}': a path has non-empty, dot-separated segments, like args.amount` }];
    }
    const hint = /^[A-Za-z_][\w.]*$/.test(key) ? ` (did you mean 'args.${key}'?)` : '';
    return [
      {
        code: 'custom',
        path: [],
        input: key,
        params: { at: 'key' },
        message: `unknown condition '${key}': expected a path starting with 'args.' or 'context.', or 'any' / 'all'${hint}`,
      },
    ];
  }
  if (Array.isArray(condition)) {
    return [
      {
        code: 'custom',
        path: [],
        input: condition,
        message: 'a list here is ambiguous: write { in: [...] } for membership or { eq: [...] } for an equal list',
      },
    ];
  }
  if (condition === null || typeof condition !== 'object') {
    return Scalar.safeParse(condition, { reportInput: true }).error?.issues as z.core.$ZodRawIssue[] | undefined;
  }
  const issues = (Operators.safeParse(condition, { reportInput: true }).error?.issues ?? []) as z.core.$ZodRawIssue[];
  return [...issues, ...operatorShapeIssues(condition as Record<string, unknown>, [])];
}

/** Checks on the operator object as written (file order, unknown keys included): not empty, one spelling per operator. */
function operatorShapeIssues(operators: Record<string, unknown>, path: (string | number)[]): z.core.$ZodRawIssue[] {
  const keys = Object.keys(operators);
  if (keys.length === 0) return [{ code: 'custom', path, input: operators, message: 'expected at least one operator, e.g. { eq: … }' }];
  const issues: z.core.$ZodRawIssue[] = [];
  const seen = new Map<string, string>();
  for (const key of keys) {
    const canonical = OPERATOR_SPELLINGS[key as keyof typeof OPERATOR_SPELLINGS];
    if (canonical === undefined) continue; // unknown operators are reported by the schema
    const earlier = seen.get(canonical);
    if (earlier !== undefined) {
      issues.push({ code: 'custom', path: [...path, key], input: key, params: { at: 'key' }, message: `'${key}' repeats '${earlier}' (two spellings of one operator)` });
    }
    seen.set(canonical, key);
  }
  const negated = operators.not;
  if (negated !== null && typeof negated === 'object' && !Array.isArray(negated)) {
    issues.push(...operatorShapeIssues(negated as Record<string, unknown>, [...path, 'not']));
  }
  return issues;
}

const ToolPattern = z.string({ error: 'expected a tool name or glob' }).superRefine((pattern, context) => {
  const problem = toolGlobProblem(pattern);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

const Mode = z.enum(['enforce', 'shadow'], { error: 'expected enforce or shadow' });

const Action = z.enum(['allow', 'deny', 'escalate'], { error: 'expected allow, deny or escalate' });

const Metadata = strictMapping(
  {
    required_approvals: z
      .number({ error: 'expected a whole number of approvals' })
      .int('expected a whole number of approvals')
      .min(1, 'expected at least 1 approval')
      .max(MAX_REQUIRED_APPROVALS, `expected at most ${MAX_REQUIRED_APPROVALS} approvals`)
      .optional(),
    approver_roles: z
      .array(z.string({ error: 'expected a role name' }).min(1, 'expected a non-empty role name'), {
        error: 'expected a list of role names',
      })
      .min(1, 'expected at least one role (omit approver_roles to let any reviewer approve)')
      .refine((roles) => new Set(roles).size === roles.length, 'expected each role once')
      .optional(),
    approval_timeout_minutes: z
      .number({ error: 'expected a number of minutes' })
      .positive('expected a positive number of minutes')
      .max(MAX_TIMEOUT_MINUTES, `expected at most ${MAX_TIMEOUT_MINUTES} minutes (30 days)`)
      .optional(),
    timeout_action: z.enum(['deny', 'allow'], { error: 'expected deny or allow' }).optional(),
    grant_ttl_minutes: z
      .number({ error: 'expected a number of minutes' })
      .positive('expected a positive number of minutes')
      .max(MAX_TIMEOUT_MINUTES, `expected at most ${MAX_TIMEOUT_MINUTES} minutes (30 days)`)
      .optional()
      .describe('How long an approval stays usable once granted (minutes); default: the control plane’s grant_ttl_minutes (24 h).'),
  },
  'metadata key',
);

const Rule = strictMapping(
  {
    id: z
      .string({ error: 'expected a rule id' })
      .regex(/^[A-Za-z0-9][\w.:-]*$/, 'expected an id of letters, digits, and _ . : - (starting with a letter or digit)')
      .optional(),
    tool: z.union([ToolPattern, z.array(ToolPattern).min(1, 'expected at least one tool')], {
      error: 'expected a tool name, glob, or list of them',
    }),
    action: Action,
    when: When.optional(),
    reason: z.string({ error: 'expected a reason string' }).optional(),
    metadata: Metadata.optional(),
    mode: Mode.optional().describe('shadow: evaluate and record what this rule would decide, without enforcing it; enforce (default): enforce it.'),
  },
  'rule key',
);

/** A whole policy document. */
export const PolicyDocumentSchema = strictMapping(
  {
    version: z.literal(1, { error: 'expected version 1' }).optional(),
    default: Action.optional(),
    rules: z.array(Rule, { error: 'expected a list of rules' }),
    mode: Mode.optional().describe('shadow: every rule that does not say otherwise is a shadow rule (recorded, not enforced).'),
  },
  'top-level key',
);

/** A policy document as written, after validation. */
export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;
/** One rule as written, after validation. */
export type RuleDocument = PolicyDocument['rules'][number];

function numberOperand() {
  return z.number({ error: 'expected a number' });
}

function stringOperand() {
  return z.string({ error: 'expected a string' });
}

function scalarList() {
  return z.array(Scalar, { error: 'expected a list of values' });
}
