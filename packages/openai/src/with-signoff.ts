// Type-only imports: raw-loop users need not install @openai/agents, and the guardrail is a plain object.
import type { FunctionTool, RunContext, Tool, ToolGuardrailFunctionOutput, ToolInputGuardrailDefinition } from '@openai/agents';
import type { Decision, Signoff } from '@signoff/core';
import { callKey } from './call-key.js';
import { findApprovalFor } from './ask-for-approval.js';
import { assertSupportedFramework } from './assert-supported-framework.js';
import { parseArguments } from './parse-arguments.js';
import { runClaimed } from './run-claimed.js';

/**
 * How a run maps to Signoff. Pass the same options to `withSignoff` and `resolveInterruptions`, so
 * both derive the same idempotency keys and policy context from the run context.
 *
 * @example
 * const signoffOptions: SignoffAgentsOptions<{ threadId: string; userId: string }> = {
 *   runId: ({ context }) => context.threadId,
 *   context: ({ context }) => ({ user: context.userId }),
 * };
 */
export interface SignoffAgentsOptions<TContext = unknown> {
  /** Caller facts for the policy's `context.…` conditions. */
  readonly context?: (runContext: RunContext<TContext>) => Readonly<Record<string, unknown>> | undefined;
  /** Namespaces idempotency keys as `${runId}:${callId}` (use a thread or run id); default: the call id alone. */
  readonly runId?: (runContext: RunContext<TContext>) => string | undefined;
  /** The user the agent acts for; they cannot approve its requests. */
  readonly onBehalfOf?: (runContext: RunContext<TContext>) => string | undefined;
}

export interface WithSignoffOptions<TContext = unknown> extends SignoffAgentsOptions<TContext> {
  /**
   * `pause` (default): an escalated call becomes an interruption (`needsApproval`), resolved by
   * `resolveInterruptions`. `block`: the tool call itself waits for the reviewers (or `timeoutMs`,
   * then refuses) — no interruption, for processes that stay up.
   */
  readonly mode?: 'pause' | 'block';
  /** `block` mode: stop waiting after this long and refuse (fail-closed); default: the request's own deadline. */
  readonly timeoutMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ToolContext<TTool> = TTool extends FunctionTool<infer TContext, any, any> ? TContext : unknown;

/** Marks a tool whose own `invoke` gates and claims, so `resolveInterruptions` leaves the claim to it. */
const GATED = Symbol.for('signoff.openai.gated-tool');

const allow: ToolGuardrailFunctionOutput = { behavior: { type: 'allow' } };
const reject = (message: string): ToolGuardrailFunctionOutput => ({ behavior: { type: 'rejectContent', message } });

/**
 * Puts an Agents SDK function tool under the Signoff policy. An escalated call sets `needsApproval`,
 * so the run stops with `result.interruptions`; a denied call is refused by a tool input guardrail
 * whose message (the policy's reason) the model sees.
 *
 * The wrapped tool's own `invoke` is the last gate, and the one place a grant is claimed: it decides
 * again with the local policy (deny → the reason is the tool's output, nothing runs), and for an
 * escalated call finds its request on the control plane by the idempotency key (`${runId}:${callId}`
 * or the call id), checks it covers this tool and these args, claims it and runs only the claimed
 * (possibly reviewer-edited) args. So an approval runs its call once however often a state is
 * resumed, and a runner that ignores `needsApproval` or the guardrail — or an app that approves in
 * the run state without the control plane — runs nothing that was not granted. Throws
 * `CONFIG_INVALID` when the installed `@openai/agents` is not `>=0.20.0 <1`.
 *
 * @example
 * const sendPayment = withSignoff(tool({ name: 'send_payment', description: 'Pay a vendor', parameters: z.object({ to: z.string(), amount: z.number() }), execute: pay }), signoff);
 * const agent = new Agent({ name: 'Payments', tools: [sendPayment] });
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function withSignoff<TTool extends FunctionTool<any, any, any>, TContext = ToolContext<TTool>>(
  tool: TTool,
  signoff: Signoff,
  options: WithSignoffOptions<TContext> = {},
): TTool {
  assertSupportedFramework('@openai/agents');
  const mode = options.mode ?? 'pause';
  // The guardrail, needsApproval and invoke each decide the same call: named by its key, an allowed call is reported once.
  const decide = (runContext: RunContext<TContext>, args: unknown, callId: string | undefined): Decision => {
    const runId = callId === undefined ? undefined : options.runId?.(runContext);
    return signoff.guard(tool.name, args, options.context?.(runContext), callId === undefined ? undefined : { callId: callKey(runId, callId) });
  };

  // Local policy only: the model hears "denied" early; the control plane is asked in invoke, once.
  const guardrail: ToolInputGuardrailDefinition<TContext> = {
    type: 'tool_input',
    name: 'signoff',
    async run({ context: runContext, toolCall }) {
      const parsed = parseArguments(toolCall.arguments);
      if (!parsed.ok) return reject(`Tool call not run: its arguments are not valid JSON (${parsed.error}).`);
      const decision = decide(runContext, parsed.args, toolCall.callId);
      return decision.action === 'deny' ? reject(`Tool call denied: ${decision.reason}`) : allow;
    },
  };

  const wrapped: FunctionTool<TContext, never, unknown> & { readonly [GATED]: true } = {
    ...tool,
    [GATED]: true,
    needsApproval: async (runContext, input, callId) =>
      (mode === 'pause' && decide(runContext as RunContext<TContext>, input, callId).action === 'escalate') || tool.needsApproval(runContext, input as never, callId),
    inputGuardrails: [guardrail, ...((tool.inputGuardrails ?? []) as ToolInputGuardrailDefinition<TContext>[])],
    invoke: async (runContext, input, details) => {
      const parsed = parseArguments(input);
      if (!parsed.ok) return `Tool call not run: its arguments are not valid JSON (${parsed.error}).`;
      const decision = decide(runContext, parsed.args, details?.toolCall?.callId);
      if (decision.action === 'allow') return tool.invoke(runContext, input, details);
      if (decision.action === 'deny') return `Tool call denied: ${decision.reason}`;
      const callId = details?.toolCall?.callId;
      if (!callId) return `Tool call not run: ${tool.name} needs approval, and this call has no call id to find its approval by.`;
      const runId = options.runId?.(runContext);
      const onBehalfOf = options.onBehalfOf?.(runContext);
      const verdict = await findApprovalFor(signoff, decision, {
        idempotencyKey: callKey(runId, callId),
        wait: mode === 'block',
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(details?.signal ? { signal: details.signal } : {}),
        ...(onBehalfOf ? { onBehalfOf } : {}),
      });
      if (verdict.kind !== 'granted') return `Tool call denied: ${verdict.kind === 'pending' ? `approval ${verdict.approval.id} is still pending` : verdict.reason}`;
      const ran = await runClaimed(signoff, verdict.approval, (args) => tool.invoke(runContext, JSON.stringify(args), details), details?.signal);
      return ran.kind === 'ran' ? ran.output : `Tool call denied: ${ran.reason}`;
    },
  };
  return wrapped as unknown as TTool;
}

/**
 * Whether a tool is wrapped with `withSignoff` (its own `invoke` gates and claims).
 *
 * @example
 * if (!isGatedTool(tool)) console.warn(`${tool.name} runs without Signoff's tool-level gate`);
 */
export function isGatedTool(tool: Tool | undefined): boolean {
  return tool !== undefined && (tool as { readonly [GATED]?: unknown })[GATED] === true;
}
