import type { ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { ResponseOutputItem } from 'openai/resources/responses/responses';
import type { ToolAnswer, ToolCallRecord } from './tool-call-record.js';

/** A tool call from either API, before anything is decided. */
export type ToolCallIdentity = Pick<ToolCallRecord, 'api' | 'kind' | 'callId' | 'tool'> & { readonly input: string };

/**
 * Reads a Chat Completions `tool_calls` entry or a Responses output item into one shape; Responses
 * items that are not function or custom tool calls (messages, reasoning) give `undefined`.
 *
 * @example
 * const calls = response.output.map(readToolCall).filter((call) => call !== undefined);
 */
export function readToolCall(item: ChatCompletionMessageToolCall | ResponseOutputItem): ToolCallIdentity | undefined {
  if (item.type === 'function' && 'function' in item) return { api: 'chat', kind: 'function', callId: item.id, tool: item.function.name, input: item.function.arguments };
  if (item.type === 'custom' && 'custom' in item) return { api: 'chat', kind: 'custom', callId: item.id, tool: item.custom.name, input: item.custom.input };
  if (item.type === 'function_call') return { api: 'responses', kind: 'function', callId: item.call_id, tool: item.name, input: item.arguments };
  if (item.type === 'custom_tool_call') return { api: 'responses', kind: 'custom', callId: item.call_id, tool: item.name, input: item.input };
  return undefined;
}

/**
 * The message that answers a call in its API's own shape: a `tool` message for Chat Completions, a
 * `function_call_output` / `custom_tool_call_output` item for the Responses API.
 *
 * @example
 * messages.push(answerToolCall(call, 'Tool call denied: over budget'));
 */
export function answerToolCall(call: Pick<ToolCallRecord, 'api' | 'kind' | 'callId'>, output: string): ToolAnswer {
  if (call.api === 'chat') return { role: 'tool', tool_call_id: call.callId, content: output };
  return call.kind === 'custom'
    ? { type: 'custom_tool_call_output', call_id: call.callId, output }
    : { type: 'function_call_output', call_id: call.callId, output };
}
