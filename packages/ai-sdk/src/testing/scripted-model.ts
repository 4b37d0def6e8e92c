import { convertArrayToReadableStream, MockLanguageModelV4 } from 'ai/test';

/** One model turn: the tool calls it makes, or the text it answers with. */
export interface ScriptedTurn {
  readonly toolCalls?: ReadonlyArray<{ readonly id: string; readonly name: string; readonly input: unknown }>;
  readonly text?: string;
}

type GenerateResult = Awaited<ReturnType<MockLanguageModelV4['doGenerate']>>;
type StreamPart = Awaited<ReturnType<MockLanguageModelV4['doStream']>>['stream'] extends ReadableStream<infer Part> ? Part : never;

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 5, text: 5, reasoning: 0 },
};

/**
 * A model that plays its turns in order, one per model call, for both `generateText` (`doGenerate`)
 * and `streamText` (`doStream`): test an agent's approval flow offline, with no provider. Every
 * prompt it received stays in `prompts`. Built on the AI SDK's own `MockLanguageModelV4` (`ai/test`).
 *
 * @example
 * const model = scriptedModel([{ toolCalls: [{ id: 'call_1', name: 'payment_send', input: { to: 'acme', amount: 1250 } }] }, { text: 'Paid.' }]);
 */
export function scriptedModel(turns: readonly ScriptedTurn[]): MockLanguageModelV4 & { readonly prompts: unknown[] } {
  let next = 0;
  const prompts: unknown[] = [];
  const take = (prompt: unknown): GenerateResult => {
    prompts.push(prompt);
    const turn = turns[next++];
    if (!turn) throw new Error(`the scripted model has no turn ${next}`);
    const toolCalls = turn.toolCalls ?? [];
    return {
      content: [
        ...(turn.text ? [{ type: 'text' as const, text: turn.text }] : []),
        ...toolCalls.map((call) => ({ type: 'tool-call' as const, toolCallId: call.id, toolName: call.name, input: JSON.stringify(call.input) })),
      ],
      finishReason: { unified: toolCalls.length > 0 ? 'tool-calls' : 'stop', raw: undefined },
      usage,
      warnings: [],
    };
  };
  const model = new MockLanguageModelV4({
    doGenerate: async (options) => take(options.prompt),
    doStream: async (options) => {
      const result = take(options.prompt);
      const parts: StreamPart[] = [{ type: 'stream-start', warnings: [] }];
      for (const part of result.content) {
        if (part.type === 'text') parts.push({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: part.text }, { type: 'text-end', id: 't' });
        else parts.push(part as StreamPart);
      }
      parts.push({ type: 'finish', finishReason: result.finishReason, usage });
      return { stream: convertArrayToReadableStream(parts) };
    },
  });
  return Object.assign(model, { prompts });
}
