import type { Signoff } from '@signoff/core';
import type { ChatCompletionMessageToolCall } from 'openai/resources/chat/completions';
import type { ResponseOutputItem } from 'openai/resources/responses/responses';
import { callKey } from './call-key.js';
import { askForApproval } from './ask-for-approval.js';
import { assertSupportedFramework } from './assert-supported-framework.js';
import { parseArguments } from './parse-arguments.js';
import { readToolCall, type ToolCallIdentity } from './read-tool-call.js';
import { rejectToolCall, settleToolCall } from './settle-tool-call.js';
import { toolHandler, type ChatToolAnswer, type CompletedGate, type GateResult, type ResponsesToolAnswer, type ToolAnswer, type ToolCallRecord, type ToolHandlers } from './tool-call-record.js';

export interface GateToolCallsOptions {
  readonly signoff: Signoff;
  /** Your tools by function name; a call to a name not listed is answered "no such tool". */
  readonly tools: ToolHandlers;
  /**
   * `pause` (default): an escalated call gets a control-plane request and the batch comes back
   * `paused` with a JSON state for `resumeToolCalls`. `block`: wait for the reviewers (or `timeoutMs`,
   * then refuse) — the batch always comes back `complete`.
   */
  readonly mode?: 'pause' | 'block';
  /** Namespaces idempotency keys as `${runId}:${callId}` (use a thread or run id); default: the call id alone. */
  readonly runId?: string;
  /** Caller facts for the policy's `context.…` conditions (user, agent, environment). */
  readonly context?: Readonly<Record<string, unknown>>;
  /** `block` mode: stop waiting after this long and refuse (fail-closed); default: the request's own deadline. */
  readonly timeoutMs?: number;
  /** The user the agent acts for; they cannot approve its requests. */
  readonly onBehalfOf?: string;
  readonly signal?: AbortSignal;
}

type Mode = 'pause' | 'block';
type Gate<TAnswer extends ToolAnswer, TMode extends Mode> = TMode extends 'block' ? CompletedGate<TAnswer> : GateResult<TAnswer>;

/**
 * Puts Signoff between the model's tool calls and your tools, for hand-written Chat Completions or
 * Responses API loops. Every call is answered exactly once, in the model's order: allowed calls
 * run; denied ones get a message with the policy's reason; malformed arguments, unknown tools and
 * tools that throw get a message saying so; escalated ones wait (`block`) or pause the batch. An
 * approved call runs once: its grant is claimed on the control plane just before the handler runs
 * with the claimed args, so a replayed model message (the same call id) is answered "already used".
 * Throws `CONFIG_INVALID` when the installed `openai` is not 7.x.
 *
 * @example
 * const message = (await openai.chat.completions.create({ model, messages, tools: schemas })).choices[0]!.message;
 * const gate = await gateToolCalls(message.tool_calls, { signoff, tools, mode: 'block' });
 * messages.push(message, ...gate.messages);
 */
export function gateToolCalls<TMode extends Mode = 'pause'>(
  toolCalls: readonly ChatCompletionMessageToolCall[] | null | undefined,
  options: GateToolCallsOptions & { readonly mode?: TMode },
): Promise<Gate<ChatToolAnswer, TMode>>;
export function gateToolCalls<TMode extends Mode = 'pause'>(
  output: readonly ResponseOutputItem[],
  options: GateToolCallsOptions & { readonly mode?: TMode },
): Promise<Gate<ResponsesToolAnswer, TMode>>;
export async function gateToolCalls(
  toolCalls: readonly (ChatCompletionMessageToolCall | ResponseOutputItem)[] | null | undefined,
  options: GateToolCallsOptions,
): Promise<GateResult> {
  assertSupportedFramework('openai');
  const calls = (toolCalls ?? []).map(readToolCall).filter((call) => call !== undefined);
  return toGateResult(await Promise.all(calls.map((call) => gateOne(call, options))));
}

async function gateOne(call: ToolCallIdentity, options: GateToolCallsOptions): Promise<ToolCallRecord> {
  const parsed = call.kind === 'custom' ? ({ ok: true, args: call.input } as const) : parseArguments(call.input);
  if (!parsed.ok) return rejectToolCall(call, call.input, `its arguments are not valid JSON (${parsed.error}); call it again with a JSON object`);
  if (!toolHandler(options.tools, call.tool)) return rejectToolCall(call, parsed.args, `there is no tool named ${call.tool}`);
  const idempotencyKey = callKey(options.runId, call.callId);
  const decision = options.signoff.guard(call.tool, parsed.args, options.context, { callId: idempotencyKey });
  if (decision.action === 'allow') return settleToolCall(call, parsed.args, { kind: 'allowed', reason: decision.reason }, options);
  if (decision.action === 'deny') return settleToolCall(call, parsed.args, { kind: 'refused', reason: decision.reason }, options);
  const verdict = await askForApproval(options.signoff, decision, {
    idempotencyKey,
    wait: options.mode === 'block',
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
  });
  return settleToolCall(call, parsed.args, verdict, options);
}

/**
 * A batch's records as a result: `complete` with the answers in the model's order once no call is
 * pending, `paused` with the whole batch as plain JSON otherwise.
 *
 * @example
 * return toGateResult(records);
 */
export function toGateResult<TAnswer extends ToolAnswer>(records: readonly ToolCallRecord<TAnswer>[]): GateResult<TAnswer> {
  const pending = records.filter((record) => record.status === 'pending');
  if (pending.length > 0) return { status: 'paused', state: { version: 1, calls: records }, pending, calls: records };
  return { status: 'complete', messages: records.map((record) => record.answer as TAnswer), calls: records };
}
