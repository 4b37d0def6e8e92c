import type { RunnableConfig } from '@langchain/core/runnables';
import { DynamicStructuredTool, type StructuredToolInterface, type ToolRunnableConfig } from '@langchain/core/tools';
import type { Signoff } from '@signoff/core';
import { ToolDeniedError } from './tool-denied-error.js';

export interface WrapToolOptions {
  /** Caller facts for the policy's `context.…` conditions. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** The user the agent acts for; they can never approve the request themselves. */
  readonly onBehalfOf?: string;
  /** Stop waiting for reviewers after this long (not run); default: the request's own deadline. */
  readonly timeoutMs?: number;
}

/**
 * Blocking mode, for plain tool use without a graph checkpointer: the returned tool (same name,
 * description and schema) asks Signoff inside the call, waits for reviewers when the call escalates,
 * then runs the original tool with the approved — possibly edited — args, or throws
 * {@link ToolDeniedError}. The process must stay alive while it waits; to pause and survive a
 * restart, use `signoffMiddleware` with `createAgent` instead. Inside a LangGraph run the request
 * is idempotent on `${thread_id}:${toolCall.id}`.
 *
 * @example
 * const guardedSendPayment = wrapTool(sendPayment, signoff);
 * await guardedSendPayment.invoke({ to: 'acme', amount: 500 }); // resolves once approved, throws ToolDeniedError if not
 */
export function wrapTool<TTool extends StructuredToolInterface>(tool: TTool, signoff: Signoff, options: WrapToolOptions = {}): DynamicStructuredTool<TTool['schema']> {
  return new DynamicStructuredTool<TTool['schema']>({
    name: tool.name,
    description: tool.description,
    schema: tool.schema,
    async func(args: unknown, _runManager, config?: RunnableConfig) {
      const { toolCall, ...runConfig } = (config ?? {}) as ToolRunnableConfig;
      const threadId = runConfig.configurable?.thread_id as string | undefined;
      const authorization = await signoff.authorize(tool.name, args, {
        ...(threadId && toolCall?.id ? { idempotencyKey: `${threadId}:${toolCall.id}` } : {}),
        ...(options.context ? { context: options.context } : {}),
        ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(runConfig.signal ? { signal: runConfig.signal } : {}),
      });
      if (!authorization.granted) throw new ToolDeniedError(authorization);
      return tool.invoke(authorization.args as Parameters<TTool['invoke']>[0], runConfig);
    },
  });
}
