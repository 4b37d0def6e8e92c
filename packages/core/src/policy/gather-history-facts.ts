import { canonicalJson } from '../canonical-json.js';
import { sha256Hex } from '../hash-args.js';
import type { RecordedCall } from '../spec/recorded-call.js';
import type { ToolCall } from '../spec/tool-call.js';
import type { CompiledPolicy } from './compile-policy.js';
import type { HistoryCondition, HistoryFacts } from './compile-history.js';
import { isPresent, readPath, toNumber } from './operator-semantics.js';
import { compileToolGlob, isToolGlob } from './tool-glob.js';

/** Which recorded calls a history condition reads: those under any of `keys`, recorded at or after `since`. */
export interface HistoryQuery {
  /** One {@link historyKey} per tool the condition looks at. */
  readonly keys: readonly string[];
  /** Earliest time (ms since epoch) that counts. */
  readonly since: number;
}

/**
 * Where history comes from: the control plane's store, or the recorded calls `signoff policy
 * replay` walks through. A read that fails (throws) makes the condition unknown: fail-closed.
 */
export interface HistoryReader {
  read(query: HistoryQuery): Promise<readonly RecordedCall[]>;
}

/**
 * The index key of a partition of the history: one tool, the `per` paths, and this call's values
 * at them (sha256 of their canonical JSON). Calls are recorded under the keys the policy's history
 * conditions will look them up by.
 *
 * @example
 * historyKey('payment.send', ['context.agent'], ['bot-1']);
 */
export function historyKey(tool: string, per: readonly string[], values: readonly unknown[]): string {
  return sha256Hex(canonicalJson([tool, per, values]));
}

/** The call's values at the `per` paths; `undefined` when one is missing or null (the condition is then unknown). */
function perValues(call: Pick<ToolCall, 'args' | 'context'>, per: readonly string[]): unknown[] | undefined {
  const values: unknown[] = [];
  for (const path of per) {
    const value = readCallPath(call, path);
    if (!isPresent(value)) return undefined;
    values.push(value);
  }
  return values;
}

function readCallPath(call: Pick<ToolCall, 'args' | 'context'>, path: string): unknown {
  const [root, ...segments] = path.split('.');
  return readPath(root === 'args' ? call.args : call.context, segments);
}

// Patterns come from policies (few), not from models: each is compiled once.
const compiledGlobs = new Map<string, RegExp>();
function ruleCovers(tools: readonly string[], tool: string): boolean {
  return tools.some((pattern) => {
    if (!isToolGlob(pattern)) return pattern === tool;
    let glob = compiledGlobs.get(pattern);
    if (glob === undefined) compiledGlobs.set(pattern, (glob = compileToolGlob(pattern)));
    return glob.test(tool);
  });
}

/** Whether a history condition is judged for calls to `tool` (its rule covers the tool). */
function appliesTo(entry: CompiledPolicy['historyConditions'][number], tool: string): boolean {
  return ruleCovers(entry.rule.tools, tool);
}

/**
 * The keys a call is recorded under, so the policy's history conditions find it: for each
 * aggregate whose rule covers the call's tool, and each `after:` naming the tool, the partition of
 * its `per` values. A call missing a `per` value is in no partition of that condition.
 *
 * @example
 * const keys = historyKeysOf(compilePolicy(policy), { tool: 'refund.create', args, context });
 */
export function historyKeysOf(compiled: CompiledPolicy, call: ToolCall): string[] {
  const keys = new Set<string>();
  for (const entry of compiled.historyConditions) {
    const { condition } = entry;
    // An aggregate counts calls to its own tool; an `after:` finds them under each of its patterns (a glob names many tools).
    const partitions = condition.kind === 'after' ? condition.tools.filter((pattern) => ruleCovers([pattern], call.tool)) : appliesTo(entry, call.tool) ? [call.tool] : [];
    if (partitions.length === 0) continue;
    const values = perValues(call, condition.window.per);
    if (values) for (const partition of partitions) keys.add(historyKey(partition, condition.window.per, values));
  }
  return [...keys];
}

/**
 * Reads what the policy's history conditions need to decide one call, at time `now`: for each
 * condition of a rule that covers the tool, the aggregate over the window (this call included) or
 * whether an `after:` tool was called. Calls the policy denied never ran and are not counted. A
 * fact is left `undefined` (unknown: deny/escalate rules apply, allow rules do not) when the
 * history cannot be read, a `per` value is missing, or a value cannot be summed.
 *
 * @example
 * const facts = await gatherHistoryFacts(compiled, call, reader, Date.now());
 * const match = compiled.evaluateWithHistory(call.tool, call.args, call.context, facts);
 */
export async function gatherHistoryFacts(
  compiled: CompiledPolicy,
  call: ToolCall,
  reader: HistoryReader,
  now: number,
  options: { readonly excludeId?: string } = {},
): Promise<HistoryFacts> {
  const facts: (number | boolean | undefined)[] = compiled.historyConditions.map(() => undefined);
  await Promise.all(
    compiled.historyConditions.map(async (entry, index) => {
      if (!appliesTo(entry, call.tool)) return;
      const { condition } = entry;
      const values = perValues(call, condition.window.per);
      if (!values) return;
      const tools = condition.kind === 'after' ? condition.tools : [call.tool];
      let calls: readonly RecordedCall[];
      try {
        calls = await reader.read({ keys: tools.map((tool) => historyKey(tool, condition.window.per, values)), since: now - condition.window.withinMs });
      } catch {
        return; // history unavailable: unknown, fail-closed
      }
      // This call is counted by itself (a retried decision may find its own earlier record).
      facts[index] = foldHistory(condition, call, calls.filter((recorded) => recorded.action !== 'deny' && recorded.id !== options.excludeId));
    }),
  );
  return facts;
}

function foldHistory(condition: HistoryCondition, call: ToolCall, calls: readonly RecordedCall[]): number | boolean | undefined {
  if (condition.kind === 'after') return calls.length > 0;
  if (condition.aggregate === 'count') return calls.length + 1;
  const path = condition.path as string;
  const own = toNumber(readCallPath(call, path));
  if (own === undefined) return undefined;
  let folded = own;
  for (const recorded of calls) {
    const number = toNumber(readCallPath(recorded, path));
    if (number === undefined) return undefined; // a value that cannot be summed: unknown rather than a wrong total
    folded = condition.aggregate === 'sum' ? folded + number : condition.aggregate === 'min' ? Math.min(folded, number) : Math.max(folded, number);
  }
  return folded;
}
