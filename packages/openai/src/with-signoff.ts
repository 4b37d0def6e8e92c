// Type-only imports: raw-loop users need not install @openai/agents, and the guardrail is a plain object.
import type { FunctionTool, RunContext, ToolGuardrailFunctionOutput, ToolInputGuardrailDefinition } from '@openai/agents';
import type { Decision, Signoff } from '@signoff/core';
import { askForApproval } from './ask-for-approval.js';
import { parseArguments } from './parse-arguments.js';

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

const allow: ToolGuardrailFunctionOutput = { behavior: { type: 'allow' } };
const reject = (message: string): ToolGuardrailFunctionOutput => ({ behavior: { type: 'rejectContent', message } });

/**
 * Puts an Agents SDK function tool under the Signoff policy. An escalated call sets `needsApproval`,
 * so the run stops with `result.interruptions`; a denied call is refused by a tool input guardrail
 * whose message (the policy's reason) the model sees. Before an escalated call runs, the guardrail
 * asks the control plane again: a call approved in the run state but not by the control plane is
 * refused, and the reviewers' edited args, when they edited them, are the ones the tool gets.
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
  const mode = options.mode ?? 'pause';
  // The args the control plane granted, by call id, for the invoke that follows the guardrail.
  const grantedArgs = new Map<string, unknown>();
  const decide = (runContext: RunContext<TContext>, args: unknown): Decision => signoff.guard(tool.name, args, options.context?.(runContext));

  const guardrail: ToolInputGuardrailDefinition<TContext> = {
    type: 'tool_input',
    name: 'signoff',
    async run({ context: runContext, toolCall }) {
      const parsed = parseArguments(toolCall.arguments);
      if (!parsed.ok) return reject(`Tool call not run: its arguments are not valid JSON (${parsed.error}).`);
      const decision = decide(runContext, parsed.args);
      if (decision.action === 'allow') return allow;
      if (decision.action === 'deny') return reject(`Tool call denied: ${decision.reason}`);
      // Pre-approval guardrails (runner option) see the call before its interruption: needsApproval holds it.
      if (mode === 'pause' && runContext.isToolApproved({ toolName: tool.name, callId: toolCall.callId }) !== true) return allow;
      const runId = options.runId?.(runContext);
      const onBehalfOf = options.onBehalfOf?.(runContext);
      const verdict = await askForApproval(signoff, decision, {
        idempotencyKey: runId ? `${runId}:${toolCall.callId}` : toolCall.callId,
        wait: mode === 'block',
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(onBehalfOf ? { onBehalfOf } : {}),
      });
      if (verdict.kind === 'granted') {
        grantedArgs.set(toolCall.callId, verdict.args);
        return allow;
      }
      return reject(`Tool call denied: ${verdict.kind === 'pending' ? `approval ${verdict.approval.id} is still pending` : verdict.reason}`);
    },
  };

  const wrapped: FunctionTool<TContext, never, unknown> = {
    ...tool,
    needsApproval: async (runContext, input, callId) =>
      (mode === 'pause' && decide(runContext as RunContext<TContext>, input).action === 'escalate') || tool.needsApproval(runContext, input as never, callId),
    inputGuardrails: [guardrail, ...((tool.inputGuardrails ?? []) as ToolInputGuardrailDefinition<TContext>[])],
    invoke: async (runContext, input, details) => {
      const callId = details?.toolCall?.callId;
      if (callId === undefined || !grantedArgs.has(callId)) return tool.invoke(runContext, input, details);
      const args = grantedArgs.get(callId);
      grantedArgs.delete(callId);
      return tool.invoke(runContext, JSON.stringify(args), details);
    },
  };
  return wrapped as TTool;
}
