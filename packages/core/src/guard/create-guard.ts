import { randomUUID } from 'node:crypto';
import { hashArgs } from '../hash-args.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compile-policy.js';
import { loadPolicy } from '../policy/load-policy.js';
import type { Decision } from '../spec/decision.js';
import type { Policy } from '../spec/policy.js';
import type { PolicyMatch } from '../spec/policy-match.js';
import type { Receipt } from '../spec/receipt.js';

/**
 * What a caller knows about the call beside its tool, args and context.
 *
 * @example
 * const decision = signoff.guard('payment_send', args, context, { callId: `${threadId}:${toolCall.id}` });
 */
export interface GuardCallOptions {
  /**
   * The id the framework knows this tool call by, scoped so it is unique (adapters use the same
   * thread/run id + tool call id as their idempotency key). With a policy that records calls, an
   * allowed call is reported under it, so a call guarded twice (a middleware and the tool-level
   * gate, a replayed graph node) counts once in the control plane's aggregates. Without it each
   * `guard()` of an allowed call counts. It must name one call: two calls under one id count once.
   * A plain guard ignores it.
   */
  readonly callId?: string;
}

/** Decides tool calls against one policy. Call it like a function; it is synchronous. */
export interface Guard {
  /**
   * Decides a call and returns the {@link Decision} with its receipt. It throws only when reading
   * the args or context throws (a getter, a `Proxy`): then nothing was decided, and nothing may run.
   */
  (tool: string, args: unknown, context?: Readonly<Record<string, unknown>>, options?: GuardCallOptions): Decision;
  /** The policy it decides with. */
  readonly policy: Policy;
  /** The pure evaluation (no receipt, reason not rendered); allocation-free except inside RE2 for `matches` tests. */
  evaluate(tool: string, args: unknown, context?: Readonly<Record<string, unknown>>): PolicyMatch;
}

export interface CreateGuardOptions {
  /** Clock for receipts (ms since epoch); defaults to `Date.now`. */
  readonly now?: () => number;
}

/**
 * Compiles a policy (a {@link Policy}, a path, or YAML text) into a synchronous `guard()`.
 *
 * @example
 * const guard = createGuard('./signoff.policy.yaml');
 * const decision = guard('payment.send', { to: 'vendor@example.com', amount: 500 });
 * if (decision.action === 'escalate') console.log(decision.reason, decision.approval);
 */
export function createGuard(source: Policy | string | URL, options: CreateGuardOptions = {}): Guard {
  const policy = typeof source === 'string' || source instanceof URL ? loadPolicy(source) : source;
  const compiled: CompiledPolicy = compilePolicy(policy);
  const now = options.now ?? Date.now;
  const policyHash = policy.hash;

  // Profiled on the seed policy (allowed calls): randomUUID, the ISO time and the receipt object
  // cost several times the evaluation itself, and most callers never read the receipt. So the
  // decision holds the clock reading, and the receipt makes its id, time and argsHash when read.
  const guard = (tool: string, args: unknown, context?: Readonly<Record<string, unknown>>): Decision => {
    const match = compiled.evaluate(tool, args, context);
    const ms = now();
    const decision: Decision = {
      action: match.action,
      reason: compiled.renderReason(match, args, context),
      ruleId: match.ruleId,
      unknownPath: match.unknownPath,
      tool,
      args,
      context,
      approval: match.approval ?? undefined,
      receipt: match.action === 'escalate' ? new EscalationReceipt(policyHash, ms, args) : new LazyReceipt(policyHash, ms),
    };
    // Only on history rules, so every other decision keeps its shape.
    if (match.needsHistory) (decision as { needsHistory?: true }).needsHistory = true;
    return decision;
  };
  return Object.assign(guard, { policy, evaluate: compiled.evaluate });
}

// The last ISO time built, shared by every guard: receipts read within the same millisecond reuse it.
let lastMs = Number.NaN;
let lastIso = '';
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/**
 * A receipt whose random id and ISO time are made when first read, then kept (reading them twice
 * gives the same values). The time is the clock reading taken when the call was decided. `id` and
 * `at` are getters: `JSON.stringify` includes them (via `toJSON`), a spread does not.
 */
class LazyReceipt implements Receipt {
  readonly policyHash: string;
  readonly #ms: number;
  #id: string | undefined;

  constructor(policyHash: string, ms: number) {
    this.policyHash = policyHash;
    this.#ms = ms;
  }

  get id(): string {
    this.#id ??= randomUUID();
    return this.#id;
  }

  get at(): string {
    return isoTime(this.#ms);
  }

  toJSON(): Receipt {
    return { id: this.id, policyHash: this.policyHash, at: this.at };
  }
}

/**
 * An escalation's receipt, whose `argsHash` is also computed on first read and then kept: sha256
 * over canonical JSON costs microseconds, ten times the rest of a decision, and most callers never
 * read it (the control plane hashes the args it receives itself). It hashes the args as they are
 * at that first read.
 */
class EscalationReceipt extends LazyReceipt {
  readonly #args: unknown;
  #argsHash: string | undefined;

  constructor(policyHash: string, ms: number, args: unknown) {
    super(policyHash, ms);
    this.#args = args;
  }

  get argsHash(): string {
    this.#argsHash ??= hashArgs(this.#args);
    return this.#argsHash;
  }

  override toJSON(): Receipt {
    return { id: this.id, policyHash: this.policyHash, argsHash: this.argsHash, at: this.at };
  }
}
