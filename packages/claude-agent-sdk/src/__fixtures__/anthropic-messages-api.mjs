// A scripted Anthropic Messages API on loopback, for the Claude Code CLI that the Claude Agent SDK
// spawns (`ANTHROPIC_BASE_URL`). It only speaks the wire format: a `respond` function decides
// each answer. Plain JavaScript so that both the package's tests (`fake-anthropic.ts`, a queue
// of turns) and the README quick-start harness (scripts/readme-quickstarts, plain Node) use it.
import { createServer } from 'node:http';

/**
 * Starts the API on 127.0.0.1 (a free port). `respond({ path, body, mainLoop })` returns the
 * assistant turn: `{ text?, toolUses?: [{ id, name, input }], streamFails? }`. `mainLoop` is true
 * for requests that offer tools (the agent's own loop), false for side requests (titles,
 * summaries). Answers stream SSE when the request asks to, as Claude Code does.
 */
export async function startAnthropicMessagesApi({ respond }) {
  let messageCounter = 0;
  const server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      if (response.headersSent) return response.destroy();
      sendJson(response, 500, { type: 'error', error: { type: 'api_error', message: String(error) } });
    });
  });

  async function handle(request, response) {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const path = request.url ?? '/';
    if (request.method !== 'POST' || !path.startsWith('/v1/messages')) {
      return sendJson(response, 404, { type: 'error', error: { type: 'not_found_error', message: `no ${request.method} ${path}` } });
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (path.startsWith('/v1/messages/count_tokens')) return sendJson(response, 200, { input_tokens: 10 });
    const mainLoop = Array.isArray(body.tools) && body.tools.length > 0;
    const turn = respond({ path, body, mainLoop });
    if (turn.streamFails && body.stream) {
      // The stream breaks after its first event: Claude Code retries without streaming.
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write(sseEvent('message_start', { type: 'message_start', message: { id: 'msg_broken', type: 'message', role: 'assistant', model: body.model ?? 'claude-fake', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } }));
      response.end();
      return;
    }
    const content = [
      ...(turn.text ? [{ type: 'text', text: turn.text }] : []),
      ...(turn.toolUses ?? []).map((toolUse) => ({ type: 'tool_use', id: toolUse.id, name: toolUse.name, input: toolUse.input })),
    ];
    const stopReason = (turn.toolUses ?? []).length > 0 ? 'tool_use' : 'end_turn';
    const requestId = `req_${++messageCounter}`;
    const message = {
      id: `msg_fake_${messageCounter}`,
      type: 'message',
      role: 'assistant',
      model: body.model ?? 'claude-fake',
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    if (!body.stream) return sendJson(response, 200, message, { 'request-id': requestId });
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': requestId });
    const send = (event, data) => response.write(sseEvent(event, data));
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

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The tool_result blocks in a request's conversation, by tool use id. */
export function toolResultsIn(body) {
  const results = new Map();
  for (const message of body.messages ?? []) {
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content) if (block?.type === 'tool_result') results.set(block.tool_use_id, block);
  }
  return results;
}

function sseEvent(event, data) {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function sendJson(response, status, body, headers = {}) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}
