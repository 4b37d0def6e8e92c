import type { Signoff } from '@signoff/core';
import type { Tool, ToolSet } from 'ai';
import { assertSupportedAiVersion } from './assert-supported-ai-version.js';
import { claimVerdict, reportOutcome } from './claim-verdict.js';
import { judgeToolCall, type SignoffAiSdkOptions, type WaitOption } from './get-tool-call-verdict.js';

const marker = Symbol.for('signoff.ai-sdk.tool');

/**
 * What a wrapped tool returns instead of running; the model receives it as an `execution-denied` tool result.
 *
 * @example
 * const refused = result.toolResults.filter((part) => (part.output as SignoffDeniedOutput).deniedBy === 'signoff');
 */
export interface SignoffDeniedOutput {
  readonly type: 'execution-denied';
  readonly reason: string;
  readonly deniedBy: 'signoff';
}

/**
 * The tools `withSignoff` returns: the same tools, whose output may also be a {@link SignoffDeniedOutput}.
 *
 * @example
 * const guarded: SignoffTools<typeof tools> = withSignoff(tools, signoff);
 */
export type SignoffTools<TOOLS extends ToolSet> = {
  [K in keyof TOOLS]: TOOLS[K] extends Tool<infer INPUT, infer OUTPUT, infer CONTEXT> ? Tool<INPUT, OUTPUT | SignoffDeniedOutput, CONTEXT> : TOOLS[K];
};

/**
 * Options of {@link withSignoff}.
 *
 * @example
 * const options: WithSignoffOptions = { wait: { timeoutMs: 10 * 60_000 }, onBehalfOf: user.id };
 */
export interface WithSignoffOptions extends SignoffAiSdkOptions {
  /**
   * How long `execute` waits for reviewers (default `true`: until the request's own deadline); still
   * pending then → denied. With {@link signoffToolApproval} pass `false`: the pause waits, not the tool.
   */
  readonly wait?: WaitOption;
}

/**
 * Makes each tool's own `execute` the last gate: the call runs only if Signoff says so at that
 * moment, whatever the SDK (or an older SDK that ignores `toolApproval`) decided before. Inside
 * `execute` the local policy decides again: `allow` runs the call as is, with no control-plane
 * traffic; `deny` never runs it. An escalated call must be approved on the control plane: the
 * wrapper finds its request by the idempotency key (creating it if there is none), waits for it if
 * `wait` says so, checks that it covers this call (same tool; the requested or the approved args),
 * **claims** it (an approval runs its call once) and runs exactly the claimed args — the reviewers'
 * edited ones when they edited them — then reports the outcome (best effort). Anything else returns
 * `{ type: 'execution-denied', reason, deniedBy: 'signoff' }`, which the model reads as an
 * `execution-denied` tool result: pending, denied, expired, already used, unreachable.
 *
 * Recommended setup: together with {@link signoffToolApproval} (same options, `wait: false`), which
 * pauses the run and then leaves the claim to this wrapper, so each call is claimed in exactly one
 * place. Alone (default `wait: true`) it is the blocking mode, for apps that keep the request open.
 *
 * @example
 * const options = { idempotencyKey: (call: SignoffToolCall) => `${chatId}:${call.toolCallId}` };
 * const result = await generateText({ model, messages, tools: withSignoff(tools, signoff, { ...options, wait: false }), toolApproval: signoffToolApproval(signoff, options) });
 */
export function withSignoff<TOOLS extends ToolSet>(tools: TOOLS, signoff: Signoff, options: WithSignoffOptions = {}): SignoffTools<TOOLS> {
  assertSupportedAiVersion();
  const wait = options.wait ?? true;
  const wrapped: Record<string, unknown> = {};
  for (const [toolName, tool] of Object.entries(tools)) {
    const execute = tool.execute;
    wrapped[toolName] = !execute
      ? tool
      : {
          ...tool,
          [marker]: true,
          execute: async (input: unknown, executionOptions: Parameters<typeof execute>[1]) => {
            const signal = executionOptions.abortSignal;
            const toolCall = { toolCallId: executionOptions.toolCallId, toolName, input };
            const judged = await judgeToolCall(signoff, toolCall, { ...options, wait, ...(signal ? { signal } : {}) }, 'find');
            const verdict = await claimVerdict(signoff, judged, signal);
            if (verdict.status === 'pending') {
              return denied(wait ? `Not run: no decision on approval ${verdict.approval.id} in time` : `Not run: approval ${verdict.approval.id} is still pending on the control plane`);
            }
            if (verdict.status === 'deny') return denied(verdict.reason);
            if (!verdict.grant) return lastValue(await execute(verdict.args as never, executionOptions));
            let output: unknown;
            try {
              output = await lastValue(await execute(verdict.args as never, executionOptions));
            } catch (error) {
              await reportOutcome(signoff, verdict.grant, 'failed', error instanceof Error ? error.message : String(error));
              throw error;
            }
            await reportOutcome(signoff, verdict.grant, 'succeeded');
            return output;
          },
          toModelOutput: async (output: { toolCallId: string; input: unknown; output: unknown }) => {
            if (isSignoffDenied(output.output)) return { type: 'execution-denied', reason: output.output.reason };
            if (tool.toModelOutput) return tool.toModelOutput(output as never);
            return typeof output.output === 'string' ? { type: 'text', value: output.output } : { type: 'json', value: JSON.parse(JSON.stringify(output.output) ?? 'null') };
          },
        };
  }
  return wrapped as SignoffTools<TOOLS>;
}

/** Whether a tool came from {@link withSignoff} (its `execute` re-checks the control plane itself). Internal. */
export function isSignoffTool(tool: unknown): boolean {
  return typeof tool === 'object' && tool !== null && (tool as Record<symbol, unknown>)[marker] === true;
}

function denied(reason: string): SignoffDeniedOutput {
  return { type: 'execution-denied', reason, deniedBy: 'signoff' };
}

function isSignoffDenied(output: unknown): output is SignoffDeniedOutput {
  return typeof output === 'object' && output !== null && (output as Partial<SignoffDeniedOutput>).deniedBy === 'signoff' && (output as Partial<SignoffDeniedOutput>).type === 'execution-denied';
}

/** Streaming tools (async iterables) are reduced to their final value: the wrapper returns once. */
async function lastValue(result: unknown): Promise<unknown> {
  if (typeof result !== 'object' || result === null || !(Symbol.asyncIterator in result)) return result;
  let last: unknown;
  for await (const value of result as AsyncIterable<unknown>) last = value;
  return last;
}
