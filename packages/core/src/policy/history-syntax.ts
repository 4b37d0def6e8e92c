import * as z from 'zod';
import { strictMapping } from '../yaml/strict-mapping.js';
import { toolGlobProblem } from './tool-glob.js';

/**
 * The written form of history conditions in a `when` map: `window:` with aggregates (`count`,
 * `sum(path)`, `min(path)`, `max(path)`), and `after:`. Kept apart from the single-call language
 * so the rest of the loader reads as before.
 */

/** The longest window a condition may ask for: a year (retention bounds what is really kept; lint compares). */
export const MAX_WINDOW_MS = 366 * 86_400_000;

/** How long the control plane keeps call history when its config does not say (`call_history.retention`): 7 days. */
export const DEFAULT_HISTORY_RETENTION_MS = 7 * 86_400_000;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;

/** `30s`, `10m`, `1h`, `7d` → milliseconds; `undefined` when not a duration. */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** Milliseconds written back the way a policy would say them (`3600000` → `1h`). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  return `${ms / 1_000}s`;
}

/** The aggregate a `when` key names: `count`, or `sum(args.amount)`; `undefined` for other keys. */
export function parseAggregateKey(key: string): { aggregate: string; path: string | null } | undefined {
  if (key === 'count') return { aggregate: 'count', path: null };
  const match = /^([A-Za-z_]\w*)\((.*)\)$/.exec(key);
  return match ? { aggregate: match[1] as string, path: (match[2] as string).trim() } : undefined;
}

/** The keys of a `when` map that belong to the history language. */
export function isHistoryKey(key: string): boolean {
  return key === 'window' || key === 'after' || key === 'not_after' || parseAggregateKey(key) !== undefined;
}

export const AGGREGATES = ['count', 'sum', 'min', 'max'] as const;

const Duration = z.string({ error: 'expected a duration like 30s, 10m, 1h or 7d' }).superRefine((text, context) => {
  const ms = parseDuration(text);
  if (ms === undefined) context.addIssue({ code: 'custom', message: `expected a duration like 30s, 10m, 1h or 7d, got ${JSON.stringify(text)}` });
  else if (ms <= 0) context.addIssue({ code: 'custom', message: 'expected a duration longer than 0' });
  else if (ms > MAX_WINDOW_MS) context.addIssue({ code: 'custom', message: 'expected a duration of at most 366d' });
});

function perPaths(conditionPath: RegExp) {
  return z
    .array(
      z.string({ error: 'expected a path like context.agent or args.to' }).regex(conditionPath, "expected a path starting with 'args.' or 'context.', like context.agent"),
      { error: 'expected a list of paths, e.g. [context.agent, args.to]' },
    )
    .refine((paths) => new Set(paths).size === paths.length, 'expected each path once');
}

/** `window: { within: 1h, per: [context.agent] }`. */
export function windowSchema(conditionPath: RegExp) {
  return strictMapping({ within: Duration, per: perPaths(conditionPath).optional() }, 'window key');
}

/** `after: { tool: inbox.read, within: 10m, per: [context.agent] }` (and `not_after:`, the same shape); `tool` takes globs (`inbox.*`). */
export function afterSchema(conditionPath: RegExp) {
  const ToolName = z.string({ error: 'expected a tool name or glob' }).superRefine((pattern, context) => {
    const problem = toolGlobProblem(pattern);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
  return strictMapping(
    {
      tool: z.union([ToolName, z.array(ToolName).min(1, 'expected at least one tool')], { error: 'expected a tool name or a list of them' }),
      within: Duration,
      per: perPaths(conditionPath).optional(),
    },
    'after key',
  );
}

const Number_ = z.number({ error: 'expected a number' });

/** What an aggregate is compared with: `{ gt: 1000 }`; numeric comparisons only. */
export const AggregateOperators = strictMapping(
  { eq: Number_.optional(), ne: Number_.optional(), gt: Number_.optional(), gte: Number_.optional(), lt: Number_.optional(), lte: Number_.optional() },
  'aggregate operator',
);
