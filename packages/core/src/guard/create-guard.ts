import { randomUUID } from 'node:crypto';
import { hashArgs } from '../hash-args.js';
import { compilePolicy, type CompiledPolicy } from '../policy/compile-policy.js';
import { loadPolicy } from '../policy/load-policy.js';
import type { Decision } from '../spec/decision.js';
import type { Policy } from '../spec/policy.js';
import type { PolicyMatch } from '../spec/policy-match.js';
import type { Receipt } from '../spec/receipt.js';

/** Decides tool calls against one policy. Call it like a function; it is synchronous. */
export interface Guard {
  /** Decides a call and returns the {@link Decision} with its receipt. Never throws for a decision. */
  (tool: string, args: unknown, context?: Readonly<Record<string, unknown>>): Decision;
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
  // ISO strings cost ~100 ns to build; calls within the same millisecond share one.
  let lastMs = Number.NaN;
  let lastIso = '';

  const guard = (tool: string, args: unknown, context?: Readonly<Record<string, unknown>>): Decision => {
    const match = compiled.evaluate(tool, args, context);
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    const receipt = match.action === 'escalate' ? new EscalationReceipt(randomUUID(), policyHash, lastIso, args) : { id: randomUUID(), policyHash, at: lastIso };
    const decision: Decision = {
      action: match.action,
      reason: compiled.renderReason(match, args, context),
      ruleId: match.ruleId,
      unknownPath: match.unknownPath,
      tool,
      args,
      context,
      approval: match.approval ?? undefined,
      receipt,
    };
    // Only on history rules, so every other decision keeps its shape.
    if (match.needsHistory) (decision as { needsHistory?: true }).needsHistory = true;
    return decision;
  };
  return Object.assign(guard, { policy, evaluate: compiled.evaluate });
}

/**
 * An escalation's receipt, whose `argsHash` is computed on first read and then kept: sha256 over
 * canonical JSON costs microseconds, ten times the rest of a decision, and most callers never read
 * it (the control plane hashes the args it receives itself). It hashes the args as they are at that
 * first read. `argsHash` is a getter: `JSON.stringify` includes it (via `toJSON`), a spread does not.
 */
class EscalationReceipt implements Receipt {
  readonly id: string;
  readonly policyHash: string;
  readonly at: string;
  readonly #args: unknown;
  #argsHash: string | undefined;

  constructor(id: string, policyHash: string, at: string, args: unknown) {
    this.id = id;
    this.policyHash = policyHash;
    this.at = at;
    this.#args = args;
  }

  get argsHash(): string {
    this.#argsHash ??= hashArgs(this.#args);
    return this.#argsHash;
  }

  toJSON(): Receipt {
    return { id: this.id, policyHash: this.policyHash, argsHash: this.argsHash, at: this.at };
  }
}
