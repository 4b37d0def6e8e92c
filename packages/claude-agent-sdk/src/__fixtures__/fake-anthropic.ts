import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted assistant turn: text, tool calls, or both. */
export interface ScriptedTurn {
  readonly text?: string;
  readonly toolUses?: readonly { readonly id: string; readonly name: string; readonly input: Record<string, unknown> }[];
  /**
   * Every streaming attempt at this turn breaks mid-stream, so Claude Code falls back to a
   * non-streaming request and gets the whole assistant message at once (as after a network hiccup).
   * Then it sees every tool call of the turn together, which is when it ignores a PreToolUse `defer`.
   */
  readonly streamFails?: boolean;
}

/** What the CLI sent to the main loop (requests that carry tools). */
export interface RecordedRequest {
  readonly path: string;
  readonly body: { model?: string; messages?: { role: string; content: unknown }[]; tools?: { name: string }[]; stream?: boolean; [key: string]: unknown };
}

export interface FakeAnthropic {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Replaces the script: each main-loop request takes the next turn; past the end, `Done.` */
  script(turns: readonly ScriptedTurn[]): void;
  close(): Promise<void>;
}

/**
 * A scripted Anthropic Messages API on loopback, for the Claude Code CLI the SDK spawns
 * (`ANTHROPIC_BASE_URL`). Main-loop requests (those offering tools) take the next scripted turn;
 * side requests (titles, summaries) get a short text. Streams SSE when asked, as the CLI does.
 */
export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  let turns: ScriptedTurn[] = [];
  const requests: RecordedRequest[] = [];
  let messageCounter = 0;

  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(error) } }));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = request.url ?? '/';
    if (request.method !== 'POST' || !path.startsWith('/v1/messages')) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no ${request.method} ${path}` } }));
      return;
    }
    const body = JSON.parse(raw) as RecordedRequest['body'];
    if (path.startsWith('/v1/messages/count_tokens')) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ input_tokens: 10 }));
      return;
    }
    const mainLoop = Array.isArray(body.tools) && body.tools.length > 0;
    if (mainLoop) requests.push({ path, body });
    const turn: ScriptedTurn = mainLoop ? (turns.shift() ?? { text: 'Done.' }) : { text: 'Scripted side answer' };
    if (turn.streamFails && body.stream) {
      turns.unshift(turn);
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write(`event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_broken', type: 'message', role: 'assistant', model: body.model ?? 'claude-fake', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } })}\n\n`);
      response.end();
      return;
    }
    type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };
    const content: Block[] = [
      ...(turn.text ? [{ type: 'text' as const, text: turn.text }] : []),
      ...(turn.toolUses ?? []).map((toolUse) => ({ type: 'tool_use' as const, id: toolUse.id, name: toolUse.name, input: toolUse.input })),
    ];
    const stopReason = (turn.toolUses ?? []).length > 0 ? 'tool_use' : 'end_turn';
    const message = {
      id: `msg_fake_${++messageCounter}`,
      type: 'message',
      role: 'assistant',
      model: body.model ?? 'claude-fake',
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    if (!body.stream) {
      response.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${messageCounter}` });
      response.end(JSON.stringify(message));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_${messageCounter}` });
    const send = (event: string, data: unknown): void => {
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    send('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } } });
    content.forEach((block, index) => {
      if (block.type === 'text') {
        send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
      } else {
        send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
      }
      send('content_block_stop', { type: 'content_block_stop', index });
    });
    send('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 5 } });
    send('message_stop', { type: 'message_stop' });
    response.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(next) {
      turns = [...next];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
