import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessage, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { assertSupportedFramework } from './assert-supported-framework.js';
import { gateToolCalls, type GateToolCallsOptions } from './gate-tool-calls.js';
import { resumeToolCalls } from './resume-tool-calls.js';
import type { ChatToolAnswer, PausedToolCalls, ToolCallRecord } from './tool-call-record.js';

/**
 * A paused loop as plain JSON: the conversation so far (ending with the assistant's tool calls) and
 * the paused batch. Store it and pass it back as `resume`.
 *
 * @example
 * await db.save(runId, JSON.stringify(result.state));
 */
export interface PausedToolLoop {
  readonly version: 1;
  readonly messages: ChatCompletionMessageParam[];
  readonly toolCalls: PausedToolCalls<ChatToolAnswer>;
}

interface ToolLoopSettings extends GateToolCallsOptions {
  readonly client: Pick<OpenAI, 'chat'>;
  /** Everything but `messages`: model, tool schemas, temperature… (non-streaming). */
  readonly request: Omit<ChatCompletionCreateParamsNonStreaming, 'messages'>;
  /** Model calls before giving up (default 10). */
  readonly maxTurns?: number;
}

export type RunToolLoopOptions = ToolLoopSettings &
  ({ readonly messages: readonly ChatCompletionMessageParam[]; readonly resume?: never } | { readonly resume: PausedToolLoop; readonly messages?: never });

/** How a loop ended: the model's final message, or paused on escalated calls. */
export type ToolLoopResult =
  | { readonly status: 'complete'; readonly message: ChatCompletionMessage; readonly messages: ChatCompletionMessageParam[]; readonly calls: readonly ToolCallRecord<ChatToolAnswer>[] }
  | { readonly status: 'paused'; readonly state: PausedToolLoop; readonly pending: readonly ToolCallRecord<ChatToolAnswer>[]; readonly calls: readonly ToolCallRecord<ChatToolAnswer>[] };

/**
 * A whole Chat Completions tool loop with Signoff in it: call the model, gate its tool calls, send
 * the answers back, until it answers without tools. In `pause` mode it returns `paused` with a JSON
 * state when a call escalates; call it again with `resume: state` (after a restart too) once the
 * reviewers have decided — or with `mode: 'block'` to wait for them.
 *
 * @example
 * const result = await runToolLoop({ client: new OpenAI(), signoff, tools, request: { model: 'gpt-4.1-mini', tools: schemas }, messages: [{ role: 'user', content: 'Pay acme $500' }] });
 * if (result.status === 'paused') await db.save(runId, JSON.stringify(result.state));
 * else console.log(result.message.content);
 */
export async function runToolLoop(options: RunToolLoopOptions): Promise<ToolLoopResult> {
  assertSupportedFramework('openai');
  const messages = [...(options.resume?.messages ?? options.messages ?? [])];
  const calls: ToolCallRecord<ChatToolAnswer>[] = [];
  if (options.resume) {
    const resumed = await resumeToolCalls(options.resume.toolCalls, { ...options, wait: options.mode === 'block' });
    calls.push(...resumed.calls);
    if (resumed.status === 'paused') return { status: 'paused', state: { version: 1, messages, toolCalls: resumed.state }, pending: resumed.pending, calls };
    messages.push(...resumed.messages);
  }
  const maxTurns = options.maxTurns ?? 10;
  for (let turn = 0; turn < maxTurns; turn += 1) {
    const completion = await options.client.chat.completions.create({ ...options.request, messages }, options.signal ? { signal: options.signal } : {});
    const message = completion.choices[0]?.message;
    if (!message) throw new Error('runToolLoop: the model returned no choice');
    messages.push(message as ChatCompletionMessageParam);
    if (!message.tool_calls?.length) return { status: 'complete', message, messages, calls };
    const gate = await gateToolCalls(message.tool_calls, options);
    calls.push(...gate.calls);
    if (gate.status === 'paused') return { status: 'paused', state: { version: 1, messages, toolCalls: gate.state }, pending: gate.pending, calls };
    messages.push(...gate.messages);
  }
  throw new Error(`runToolLoop: the model was still calling tools after ${maxTurns} turns`);
}
