import type { Signoff } from '@signoff/core';
import type { Tool, ToolSet } from 'ai';
import { getToolCallVerdict, type SignoffAiSdkOptions, type WaitOption } from './get-tool-call-verdict.js';

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
  /** How long `execute` waits for reviewers (default `true`: until the request's own deadline); still pending then → denied. */
  readonly wait?: WaitOption;
}

/**
 * Blocking mode, for apps that keep the request open: wraps each tool's `execute` so that the
 * policy decides inside the call. Allowed calls run; escalated ones wait for the control plane and
 * run with the approved (possibly reviewer-edited) args; denied, expired or failed ones do not run
 * and the model reads an `execution-denied` result with the reason.
 *
 * Combined with {@link signoffToolApproval}, it is also how reviewer-edited args run after a pause.
 *
 * @example
 * const result = await generateText({ model, tools: withSignoff({ payment_send }, signoff), prompt: 'Pay acme $500' });
 */
export function withSignoff<TOOLS extends ToolSet>(tools: TOOLS, signoff: Signoff, options: WithSignoffOptions = {}): SignoffTools<TOOLS> {
  const wrapped: Record<string, unknown> = {};
  for (const [toolName, tool] of Object.entries(tools)) {
    const execute = tool.execute;
    wrapped[toolName] = !execute
      ? tool
      : {
          ...tool,
          [marker]: true,
          execute: async (input: unknown, executionOptions: Parameters<typeof execute>[1]) => {
            const verdict = await getToolCallVerdict(
              signoff,
              { toolCallId: executionOptions.toolCallId, toolName, input },
              { ...options, wait: options.wait ?? true, ...(executionOptions.abortSignal ? { signal: executionOptions.abortSignal } : {}) },
            );
            if (verdict.status !== 'allow') return denied(verdict.status === 'pending' ? `Not run: no decision on approval ${verdict.approval.id} in time` : verdict.reason);
            return lastValue(await execute(verdict.args as never, executionOptions));
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
