// A scripted OpenAI-compatible HTTP server (Chat Completions and Responses) for offline tests and examples:
// the official client runs its real request path against it.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One tool call the fake model makes; object arguments are sent as JSON, strings verbatim (so tests can send malformed JSON). */
export interface ScriptedToolCall {
  readonly name: string;
  readonly arguments: unknown;
  readonly id?: string;
}

/** What the fake model answers next: tool calls (in parallel) or a text, possibly written from the request (e.g. its tool outputs). */
export type ScriptedTurn = { readonly toolCalls: readonly ScriptedToolCall[] } | { readonly text: string | ((request: RecordedRequest) => string) };

export interface RecordedRequest {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

export interface ScriptedOpenAIServer {
  /** Pass as `baseURL` to `new OpenAI({ baseURL, apiKey })`. */
  readonly baseURL: string;
  /** Every request the official client sent, in order. */
  readonly requests: RecordedRequest[];
  /** Queues the model's next turns; once the queue is empty it answers with a text listing the tool outputs it was given. */
  script(...turns: ScriptedTurn[]): void;
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible HTTP server (`POST /v1/chat/completions`, `POST /v1/responses`) that plays a
 * script, so the official `openai` client and the Agents SDK run their real request path. Like the
 * real API, it refuses a request in which some tool call is not answered exactly once.
 */
export async function startScriptedOpenAIServer(): Promise<ScriptedOpenAIServer> {
  const queue: ScriptedTurn[] = [];
  const requests: RecordedRequest[] = [];

  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => send(response, 500, { error: { message: String(error), type: 'server_error' } }));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of request) text += String(chunk);
    const path = (request.url ?? '').split('?')[0] ?? '';
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    requests.push({ path, body });
    if (request.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/v1/responses')) {
      return send(response, 404, { error: { message: `no route ${request.method} ${path}`, type: 'invalid_request_error' } });
    }
    if (body.stream) return send(response, 400, { error: { message: 'the scripted server does not stream', type: 'invalid_request_error' } });
    const chat = path === '/v1/chat/completions';
    const problem = chat ? unansweredChatCalls(body) : unansweredResponsesCalls(body);
    if (problem) return send(response, 400, { error: { message: problem, type: 'invalid_request_error', param: chat ? 'messages' : 'input' } });
    const next = queue.shift() ?? { text: (request: RecordedRequest) => `Tool outputs: ${JSON.stringify(toolOutputs(request))}` };
    const turn = 'text' in next && typeof next.text === 'function' ? { text: next.text({ path, body }) } : (next as Turn);
    send(response, 200, chat ? chatCompletion(turn, body) : responsesResponse(turn, body));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...turns) => void queue.push(...turns),
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** The tool outputs a request carries, by call id (Chat Completions `tool` messages or Responses `function_call_output` items). */
export function toolOutputs(request: RecordedRequest): Record<string, string> {
  return Object.fromEntries(toolResults(request).map((result) => [result.callId, result.output]));
}

/** The tool calls of a request's conversation that have an answer, in order, with the tool's name. */
export function toolResults(request: RecordedRequest): Array<{ readonly callId: string; readonly name: string; readonly output: string }> {
  const names = new Map<string, string>();
  const results: Array<{ callId: string; name: string; output: string }> = [];
  for (const item of items(request.body)) {
    for (const call of (item.tool_calls as Item[] | undefined) ?? []) names.set(String(call.id), String((call.function as Item | undefined)?.name));
    if (item.type === 'function_call') names.set(String(item.call_id), String(item.name));
    if (item.role === 'tool') results.push({ callId: String(item.tool_call_id), name: '', output: String(item.content) });
    if (item.type === 'function_call_output') {
      results.push({ callId: String(item.call_id), name: '', output: typeof item.output === 'string' ? item.output : JSON.stringify(item.output) });
    }
  }
  return results.map((result) => ({ ...result, name: names.get(result.callId) ?? '?' }));
}

type Item = Record<string, unknown>;
type Turn = { readonly toolCalls: readonly ScriptedToolCall[] } | { readonly text: string };

function items(body: Record<string, unknown>): Item[] {
  const list = body.messages ?? body.input;
  return Array.isArray(list) ? (list as Item[]) : [];
}

function unansweredChatCalls(body: Record<string, unknown>): string | undefined {
  const called = items(body).flatMap((message) => ((message.tool_calls as Item[] | undefined) ?? []).map((call) => String(call.id)));
  const answered = items(body).filter((message) => message.role === 'tool').map((message) => String(message.tool_call_id));
  return checkAnswers(called, answered);
}

function unansweredResponsesCalls(body: Record<string, unknown>): string | undefined {
  const called = items(body).filter((item) => item.type === 'function_call').map((item) => String(item.call_id));
  const answered = items(body).filter((item) => item.type === 'function_call_output').map((item) => String(item.call_id));
  return checkAnswers(called, answered);
}

function checkAnswers(called: string[], answered: string[]): string | undefined {
  const missing = called.filter((id) => !answered.includes(id));
  if (missing.length > 0) return `No tool output found for tool call(s) ${missing.join(', ')}.`;
  const extra = answered.filter((id, index) => !called.includes(id) || answered.indexOf(id) !== index);
  if (extra.length > 0) return `Tool output(s) ${extra.join(', ')} answer no tool call, or answer one twice.`;
  return undefined;
}

function argumentsText(call: ScriptedToolCall): string {
  return typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
}

const newId = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;

function chatCompletion(turn: Turn, body: Record<string, unknown>): unknown {
  const message =
    'text' in turn
      ? { role: 'assistant', content: turn.text, refusal: null }
      : {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: turn.toolCalls.map((call) => ({ id: call.id ?? newId('call'), type: 'function', function: { name: call.name, arguments: argumentsText(call) } })),
        };
  return {
    id: newId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: String(body.model ?? 'scripted'),
    choices: [{ index: 0, message, finish_reason: 'text' in turn ? 'stop' : 'tool_calls', logprobs: null }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

function responsesResponse(turn: Turn, body: Record<string, unknown>): unknown {
  const output =
    'text' in turn
      ? [{ type: 'message', id: newId('msg'), role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: turn.text, annotations: [] }] }]
      : turn.toolCalls.map((call) => ({ type: 'function_call', id: newId('fc'), call_id: call.id ?? newId('call'), name: call.name, arguments: argumentsText(call), status: 'completed' }));
  return {
    id: newId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'completed',
    model: String(body.model ?? 'scripted'),
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: body.tools ?? [],
    error: null,
    incomplete_details: null,
    instructions: null,
    metadata: {},
    temperature: null,
    top_p: null,
    usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
