import { checkApproval, SignoffError, type ApprovalRequest, type ExecutionGrant, type Signoff } from '@signoff/core';
import { createTool, Tool, type ToolExecutionContext } from '@mastra/core/tools';
import { assertSupportedMastraVersion } from './assert-supported-mastra-version.js';

/**
 * One tool call of a Mastra run, as the adapter names it to Signoff.
 *
 * @example
 * const call: SignoffMastraCall = { runId: output.runId!, toolCallId: 'call_1', toolName: 'payment_send' };
 */
export interface SignoffMastraCall {
  readonly runId: string;
  readonly toolCallId: string;
  /** The key the tool has in the agent's `tools` (the name the model calls it by, and the policy's `tool`). */
  readonly toolName: string;
}

/**
 * Options shared by {@link withSignoff} and {@link resumeWithSignoff}: pass both the same ones.
 *
 * @example
 * const options: SignoffMastraOptions = { context: { agent: 'payer' }, onBehalfOf: user.id };
 */
export interface SignoffMastraOptions {
  /** Caller context for the policy's `context.…` conditions. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** The user the agent acts for; they cannot approve its requests. */
  readonly onBehalfOf?: string;
  /** The control plane's idempotency key of a call (default `mastra:<runId>:<toolCallId>`). */
  readonly idempotencyKey?: (call: SignoffMastraCall) => string;
}

/**
 * What a wrapped tool returns instead of running; the model reads it as the tool's result.
 *
 * @example
 * if (isSignoffRefusal(toolResult.payload.result)) console.log(toolResult.payload.result.reason);
 */
export interface SignoffRefusal {
  readonly status: 'refused';
  readonly reason: string;
  readonly refusedBy: 'signoff';
}

/**
 * The tools {@link withSignoff} returns: the same keys, each a Mastra tool that may answer a {@link SignoffRefusal}.
 *
 * @example
 * const tools: SignoffMastraTools<typeof myTools> = withSignoff(myTools, signoff);
 */
export type SignoffMastraTools<TOOLS extends Record<string, unknown>> = { [K in keyof TOOLS]: Tool };

const marker = Symbol.for('signoff.mastra.tool');

/**
 * Puts Signoff in front of Mastra tools. Each wrapped tool's `requireApproval` asks the local
 * policy: `escalate` → Mastra suspends the run with its native `tool-call-approval` (then
 * {@link resumeWithSignoff} files the request and resumes exactly that call once reviewers
 * decide); `allow` and `deny` → no suspension. The tool's own `execute` is the last gate, whatever
 * approved the call: `allow` runs it; `deny` returns a {@link SignoffRefusal} with the reason and runs
 * nothing; `escalate` runs only if the control plane holds an approval for this run's call
 * (idempotency key from run id + tool call id) covering these args, and only after claiming it —
 * once, with the approved (possibly reviewer-edited) args. A direct `agent.approveToolCall`, a
 * replayed resume, a stale decision or an unreachable control plane gets a refusal.
 *
 * The policy decides instead of the tools' own `requireApproval`, and their `outputSchema` is not
 * enforced (a refusal is not the tool's output). Tools must be Mastra tools (`createTool`).
 *
 * @example
 * const agent = new Agent({ id: 'payer', name: 'Payer', instructions, model, tools: withSignoff({ payment_send: paymentTool }, signoff) });
 */
export function withSignoff<TOOLS extends Record<string, unknown>>(tools: TOOLS, signoff: Signoff, options: SignoffMastraOptions = {}): SignoffMastraTools<TOOLS> {
  assertSupportedMastraVersion();
  const wrapped: Record<string, Tool> = {};
  for (const [toolName, tool] of Object.entries(tools)) {
    if (!(tool instanceof Tool) || typeof tool.execute !== 'function') {
      throw new SignoffError('CONFIG_INVALID', `withSignoff: tool "${toolName}" is not a Mastra tool with an execute function; make it with createTool from @mastra/core/tools`);
    }
    const execute = tool.execute.bind(tool);
    const { outputSchema: _ignored, requireApproval: _replaced, needsApprovalFn: _resolved, ...rest } = tool;
    const gated = createTool({
      ...rest,
      // Only asks whether to pause: the pure evaluation, so the call is reported once, by execute.
      requireApproval: (input: unknown) => signoff.guard.evaluate(toolName, input, options.context).action === 'escalate',
      execute: async (input: unknown, context: ToolExecutionContext & { readonly runId?: unknown }) => {
        const runId = context.runId;
        const toolCallId = context.agent?.toolCallId;
        const verdict = await judge(signoff, { toolName, input, runId: typeof runId === 'string' ? runId : undefined, toolCallId }, options);
        if (verdict.status === 'refused') return verdict;
        if (!verdict.grant) return execute(input as never, context as never);
        try {
          const output = await execute(verdict.grant.args as never, context as never);
          await report(signoff, verdict.grant, 'succeeded');
          return output;
        } catch (error) {
          await report(signoff, verdict.grant, 'failed', error instanceof Error ? error.message : String(error));
          throw error;
        }
      },
    } as never) as Tool;
    Object.defineProperty(gated, marker, { value: true });
    wrapped[toolName] = gated;
  }
  return wrapped as SignoffMastraTools<TOOLS>;
}

/**
 * Whether a tool came from {@link withSignoff}.
 *
 * @example
 * if (!isSignoffTool(agentTools.payment_send)) throw new Error('payment_send is not gated');
 */
export function isSignoffTool(tool: unknown): boolean {
  return typeof tool === 'object' && tool !== null && (tool as Record<symbol, unknown>)[marker] === true;
}

/**
 * Whether a tool result is a Signoff refusal.
 *
 * @example
 * const refused = output.toolResults.filter((result) => isSignoffRefusal(result.payload.result));
 */
export function isSignoffRefusal(output: unknown): output is SignoffRefusal {
  return typeof output === 'object' && output !== null && (output as Partial<SignoffRefusal>).refusedBy === 'signoff' && (output as Partial<SignoffRefusal>).status === 'refused';
}

/** The default key: the same call of the same run always finds the same request. Internal. */
export function idempotencyKeyOf(call: SignoffMastraCall, options: SignoffMastraOptions): string {
  return options.idempotencyKey ? options.idempotencyKey(call) : `mastra:${call.runId}:${call.toolCallId}`;
}

/** The one place this adapter turns a failure on the way to the control plane into a refusal. Internal. */
export function refusal(reason: string): SignoffRefusal {
  return { status: 'refused', reason, refusedBy: 'signoff' };
}

type Verdict = SignoffRefusal | { readonly status: 'run'; readonly grant?: ExecutionGrant };

interface GateCall {
  readonly toolName: string;
  readonly input: unknown;
  readonly runId: string | undefined;
  readonly toolCallId: string | undefined;
}

async function judge(signoff: Signoff, call: GateCall, options: SignoffMastraOptions): Promise<Verdict> {
  const key = call.runId && call.toolCallId ? idempotencyKeyOf({ runId: call.runId, toolCallId: call.toolCallId, toolName: call.toolName }, options) : undefined;
  const decision = signoff.guard(call.toolName, call.input, options.context, key === undefined ? undefined : { callId: key });
  if (decision.action === 'allow') return { status: 'run' };
  if (decision.action === 'deny') return refusal(decision.reason);
  if (!call.runId || !call.toolCallId) return refusal('Not run: an escalated call needs a run id and a tool call id to find its approval');
  let approval: ApprovalRequest | undefined;
  try {
    approval = await signoff.findApproval(key as string);
    if (!approval) return refusal(`Not run: no approval was requested on the control plane for tool call ${call.toolCallId} (${decision.reason})`);
    const check = checkApproval(approval, { tool: call.toolName, args: call.input });
    if (!check.granted) return refusal(`Not run: ${check.reason}`);
    return { status: 'run', grant: await signoff.claimExecution(approval) };
  } catch (error) {
    return refusal(`Not run (fail-closed): ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Best effort and bounded: a lost outcome report never fails the call. */
async function report(signoff: Signoff, grant: ExecutionGrant, outcome: 'succeeded' | 'failed', detail?: string): Promise<void> {
  await signoff.reportOutcome(grant, outcome, { signal: AbortSignal.timeout(2_000), ...(detail ? { detail } : {}) }).catch(() => undefined);
}
