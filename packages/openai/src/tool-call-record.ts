import type { ChatCompletionToolMessageParam } from 'openai/resources/chat/completions';
import type { ResponseCustomToolCallOutput, ResponseInputItem } from 'openai/resources/responses/responses';

/** The answer to one Chat Completions tool call: a `tool` message. */
export type ChatToolAnswer = ChatCompletionToolMessageParam;

/** The answer to one Responses API call: a `function_call_output` (or `custom_tool_call_output`) input item. */
export type ResponsesToolAnswer = ResponseInputItem.FunctionCallOutput | ResponseCustomToolCallOutput;

/** Either API's answer to a tool call. */
export type ToolAnswer = ChatToolAnswer | ResponsesToolAnswer;

/**
 * Your tools, by the function name the model calls. A handler gets the args to run — the model's,
 * or the reviewers' edited ones — and returns the output (strings are sent as they are, anything
 * else as JSON). Signoff does not validate args against your schema: do that in the handler.
 *
 * @example
 * const tools: ToolHandlers = { send_payment: async (args: { to: string; amount: number }) => payments.send(args) };
 */
// `any` so handlers can declare their own argument type; the model's JSON is not checked for them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ToolHandlers = Readonly<Record<string, (args: any, call: { readonly callId: string; readonly tool: string }) => unknown>>;

/**
 * The handler for a tool name the model chose: own properties only, so a model calling
 * `constructor`, `toString` or `__proto__` finds no tool rather than something built in.
 *
 * @example
 * const handler = toolHandler(tools, call.tool); // undefined for 'constructor'
 */
export function toolHandler(tools: ToolHandlers, name: string): ToolHandlers[string] | undefined {
  const handler = Object.hasOwn(tools, name) ? tools[name] : undefined;
  return typeof handler === 'function' ? handler : undefined;
}

/**
 * What happened to one tool call: `ran` (allowed or approved, then executed), `denied` (policy,
 * reviewers, timeout or a control-plane failure: nothing ran), `failed` (malformed arguments, unknown
 * tool, or the tool threw) or `pending` (waiting for reviewers).
 */
export type ToolCallStatus = 'ran' | 'denied' | 'failed' | 'pending';

/**
 * One tool call and its outcome, as plain JSON.
 *
 * @example
 * const record: ToolCallRecord = { api: 'chat', kind: 'function', callId: 'call_1', tool: 'send_payment', args: { amount: 500 }, status: 'pending', reason: 'Payments over $100 require approval', approvalId: 'apr_…' };
 */
export interface ToolCallRecord<TAnswer extends ToolAnswer = ToolAnswer> {
  /** Which API the call came from, so its answer has the same shape. */
  readonly api: 'chat' | 'responses';
  /** `function` (JSON arguments) or `custom` (free-form input, judged as a string). */
  readonly kind: 'function' | 'custom';
  /** `tool_call_id` (Chat Completions) or `call_id` (Responses). */
  readonly callId: string;
  /** The function name the model called; the policy's `tool`. */
  readonly tool: string;
  /** The args the model sent, parsed; the raw text when they were not valid JSON. */
  readonly args: unknown;
  readonly status: ToolCallStatus;
  /** Why: the policy's reason, the reviewers' resolution, or the failure. */
  readonly reason: string;
  /** The control plane's request, for escalated calls. */
  readonly approvalId?: string;
  /** The message that answers the call; absent while it is pending. */
  readonly answer?: TAnswer;
}

/**
 * A paused batch of tool calls, as plain JSON: store it (`JSON.stringify`) and pass it to
 * `resumeToolCalls` later — in this process or after a restart.
 *
 * @example
 * await db.save(runId, JSON.stringify({ messages, paused: gate.state }));
 */
export interface PausedToolCalls<TAnswer extends ToolAnswer = ToolAnswer> {
  readonly version: 1;
  /** Every call of the batch in the model's order: answered ones carry their answer, pending ones their approval id. */
  readonly calls: readonly ToolCallRecord<TAnswer>[];
}

/**
 * The outcome of gating (or resuming) a batch: `complete` with one answer per call, in the model's
 * order, to append to the conversation; or `paused` with a state to store until reviewers decide.
 * Append nothing while paused — the answers come all together when the batch completes.
 *
 * @example
 * const gate = await gateToolCalls(message.tool_calls, { signoff, tools, mode: 'pause' });
 * if (gate.status === 'complete') messages.push(message, ...gate.messages);
 * else await db.save(JSON.stringify(gate.state));
 */
export type GateResult<TAnswer extends ToolAnswer = ToolAnswer> = CompletedGate<TAnswer> | PausedGate<TAnswer>;

/** Every call of the batch answered, in the model's order: append `messages` after the assistant message. */
export interface CompletedGate<TAnswer extends ToolAnswer = ToolAnswer> {
  readonly status: 'complete';
  readonly messages: TAnswer[];
  readonly calls: readonly ToolCallRecord<TAnswer>[];
}

/** Some calls wait for reviewers: store `state` and resume later; nothing is appended yet. */
export interface PausedGate<TAnswer extends ToolAnswer = ToolAnswer> {
  readonly status: 'paused';
  readonly state: PausedToolCalls<TAnswer>;
  /** The calls still waiting for reviewers. */
  readonly pending: readonly ToolCallRecord<TAnswer>[];
  readonly calls: readonly ToolCallRecord<TAnswer>[];
}
