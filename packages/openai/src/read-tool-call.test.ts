import { createSignoff } from '@signoff/core';
import type { ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { ResponseOutputItem } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { gateToolCalls } from './gate-tool-calls.js';
import { answerToolCall, readToolCall } from './read-tool-call.js';

// guard() is local: no control plane is reached for allow and deny.
const signoff = createSignoff({
  policy: 'version: 1\ndefault: deny\nrules:\n  - { tool: "run_sql", action: allow, reason: ok }\n',
  controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'unused' },
});
const tools = { run_sql: async (query: string) => `rows for ${query}` };

describe('readToolCall / answerToolCall', () => {
  it('answers each API in its own shape, custom tool calls included', async () => {
    const chat: ChatCompletionMessageToolCall[] = [{ id: 'call_1', type: 'custom', custom: { name: 'run_sql', input: 'select 1' } }];
    const responses: ResponseOutputItem[] = [
      { type: 'reasoning', id: 'rs_1', summary: [] },
      { type: 'custom_tool_call', call_id: 'call_2', name: 'run_sql', input: 'select 2' },
      { type: 'function_call', call_id: 'call_3', name: 'drop_table', arguments: '{"name":"users"}' },
    ];
    expect((await gateToolCalls(chat, { signoff, tools })).calls.map((call) => call.answer)).toEqual([{ role: 'tool', tool_call_id: 'call_1', content: 'rows for select 1' }]);
    expect((await gateToolCalls(responses, { signoff, tools })).calls.map((call) => call.answer)).toEqual([
      { type: 'custom_tool_call_output', call_id: 'call_2', output: 'rows for select 2' },
      { type: 'function_call_output', call_id: 'call_3', output: 'Tool call not run: there is no tool named drop_table.' },
    ]);
    expect(readToolCall(responses[0]!)).toBeUndefined();
    expect(answerToolCall({ api: 'responses', kind: 'function', callId: 'call_4' }, 'x')).toEqual({ type: 'function_call_output', call_id: 'call_4', output: 'x' });
  });
});
