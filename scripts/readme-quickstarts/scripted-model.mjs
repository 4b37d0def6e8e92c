// A scripted OpenAI-compatible model on 127.0.0.1: the one part of a quick start that cannot run
// here. It speaks Chat Completions and the Responses API (non-streaming), and plays one script:
// asked with tools, it calls the payment tool once with `{ to: 'acme', amount: 1250 }`; once the
// conversation holds that call's result, it answers in text. Call ids are fixed, so a quick start
// run twice (paused, then resumed in a new process) sees the same call again, as with a real
// model's replayed message history.
import { createServer } from 'node:http';
import { startAnthropicMessagesApi, toolResultsIn } from '../../packages/claude-agent-sdk/src/__fixtures__/anthropic-messages-api.mjs';

export const MODEL_ARGS = Object.freeze({ to: 'acme', amount: 1250 });
const CALL_ID = 'call_pay_1';

/** Starts the model; resolves to `{ url, requests, close }` (`url` ends in `/v1`). */
export function startScriptedModel() {
  const requests = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      let parsed;
      try {
        parsed = JSON.parse(body || '{}');
      } catch {
        return reply(response, 400, { error: { message: 'body is not JSON' } });
      }
      requests.push({ path: request.url, body: parsed });
      if (parsed.stream) return reply(response, 400, { error: { message: 'the scripted model does not stream' } });
      if (request.method === 'POST' && request.url?.endsWith('/chat/completions')) return reply(response, 200, chatCompletion(parsed));
      if (request.method === 'POST' && request.url?.endsWith('/responses')) return reply(response, 200, responsesAnswer(parsed));
      reply(response, 404, { error: { message: `the scripted model has no ${request.method} ${request.url}` } });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise((done) => server.close(done)) });
    }),
  );
}

function reply(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

// The payment tool among those offered: the first whose name says "pay".
function paymentTool(names) {
  return names.find((name) => /pay/i.test(name));
}

function chatCompletion(body) {
  const messages = body.messages ?? [];
  const answered = messages.some((message) => message.role === 'tool');
  const tool = paymentTool((body.tools ?? []).map((each) => each.function?.name ?? each.name));
  const message =
    answered || !tool
      ? { role: 'assistant', content: answered ? 'Done: the payment was handled.' : 'I have no payment tool.', refusal: null }
      : {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ id: CALL_ID, type: 'function', function: { name: tool, arguments: JSON.stringify(MODEL_ARGS) } }],
        };
  return {
    id: 'chatcmpl-scripted',
    object: 'chat.completion',
    created: 1_764_000_000,
    model: body.model ?? 'scripted',
    choices: [{ index: 0, message, logprobs: null, finish_reason: message.tool_calls ? 'tool_calls' : 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

function responsesAnswer(body) {
  const input = Array.isArray(body.input) ? body.input : [];
  const answered = input.some((item) => item?.type === 'function_call_output');
  const tool = paymentTool((body.tools ?? []).filter((each) => each.type === 'function').map((each) => each.name));
  const text = answered ? 'Done: the payment was handled.' : 'I have no payment tool.';
  const output =
    answered || !tool
      ? [{ type: 'message', id: 'msg_scripted', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }]
      : [{ type: 'function_call', id: 'fc_scripted', call_id: CALL_ID, name: tool, arguments: JSON.stringify(MODEL_ARGS), status: 'completed' }];
  return {
    id: 'resp_scripted',
    object: 'response',
    created_at: 1_764_000_000,
    status: 'completed',
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    model: body.model ?? 'scripted',
    output,
    output_text: output[0].type === 'message' ? text : '',
    parallel_tool_calls: true,
    previous_response_id: null,
    temperature: 1,
    tool_choice: 'auto',
    tools: body.tools ?? [],
    top_p: 1,
    usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 },
  };
}

// The Claude Agent SDK quick start's model: the same script on the Anthropic Messages API (it
// streams, as the bundled Claude Code asks), served by the package tests' fixture. Offered
// Claude Code's tools, it asks for one shell command the coding policy escalates (a `git push`,
// here an echo that writes which push ran into pushes.log); once the conversation holds that
// call's result (run, or refused), it answers in text.
export const CLAUDE_CALL = Object.freeze({
  id: 'toolu_quickstart_push',
  name: 'Bash',
  input: Object.freeze({ command: 'echo "git push origin main" >> pushes.log', description: 'Push the fix' }),
});

/** Starts it; resolves to `{ url, close }` (`url` is for ANTHROPIC_BASE_URL). */
export function startScriptedClaude() {
  return startAnthropicMessagesApi({
    respond({ body, mainLoop }) {
      if (!mainLoop) return { text: 'Scripted side answer' }; // titles, summaries
      const result = toolResultsIn(body).get(CLAUDE_CALL.id);
      if (result) return { text: result.is_error ? 'The push was not run.' : 'Done: pushed.' };
      if (!body.tools.some((tool) => tool.name === CLAUDE_CALL.name)) return { text: 'I have no shell tool.' };
      return { toolUses: [{ ...CLAUDE_CALL, input: { ...CLAUDE_CALL.input } }] };
    },
  });
}
