import { MockLanguageModelV4 } from 'ai/test';

type GenerateResult = Awaited<ReturnType<MockLanguageModelV4['doGenerate']>>;
type Prompt = Parameters<MockLanguageModelV4['doGenerate']>[0]['prompt'];

const usage = { inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 0, text: 0, reasoning: 0 } };

function toolCalls(calls: ReadonlyArray<{ id: string; name: string; input: unknown }>): GenerateResult {
  return {
    content: calls.map((call) => ({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: JSON.stringify(call.input) })),
    finishReason: { unified: 'tool-calls', raw: undefined },
    usage,
    warnings: [],
  };
}

/** The model's report: one line per tool result of the last two calls it made. */
function report(prompt: Prompt): GenerateResult {
  const results = prompt.flatMap((message) => (message.role === 'tool' ? message.content : [])).filter((part) => part.type === 'tool-result').slice(-2);
  const lines = results.map((result) => {
    const output = result.output;
    if (output.type === 'execution-denied') return `${result.toolName}: not done — ${output.reason ?? 'denied'}`;
    return `${result.toolName}: ${output.type === 'text' ? output.value : JSON.stringify('value' in output ? output.value : output)}`;
  });
  return { content: [{ type: 'text', text: lines.join('\n') }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] };
}

/**
 * What a tool-calling model would do with the example's request, scripted so the example runs
 * offline: look up the invoice and (wrongly) try to delete a vendor, then pay and email in parallel,
 * then report what happened. Each `generateText` step is one model call.
 */
export function createScriptedModel(): MockLanguageModelV4 {
  const turns = [
    () =>
      toolCalls([
        { id: 'call_invoice', name: 'get_invoice', input: { id: 'inv_1042' } },
        { id: 'call_delete', name: 'delete_vendor', input: { vendor: 'globex' } },
      ]),
    () =>
      toolCalls([
        { id: 'call_pay', name: 'send_payment', input: { to: 'acme-supplies', amount: 1250, currency: 'USD', reference: 'inv_1042' } },
        { id: 'call_email', name: 'send_email', input: { to: 'billing@acme-supplies.com', subject: 'Remittance advice inv_1042', body: 'We paid invoice inv_1042 (1250 USD).' } },
      ]),
  ];
  let call = 0;
  return new MockLanguageModelV4({ doGenerate: async ({ prompt }) => (turns[call++] ?? (() => report(prompt)))() });
}
