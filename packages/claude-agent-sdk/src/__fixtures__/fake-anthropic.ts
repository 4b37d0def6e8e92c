import { startAnthropicMessagesApi, type MessagesRequestBody, type ScriptedTurn } from './anthropic-messages-api.mjs';

export type { ScriptedTurn };

/** What the CLI sent to the main loop (requests that carry tools). */
export interface RecordedRequest {
  readonly path: string;
  readonly body: MessagesRequestBody;
}

export interface FakeAnthropic {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Replaces the script: each main-loop request takes the next turn; past the end, `Done.` */
  script(turns: readonly ScriptedTurn[]): void;
  close(): Promise<void>;
}

/**
 * The scripted Anthropic Messages API (`anthropic-messages-api.mjs`) playing a queue of turns:
 * main-loop requests (those offering tools) take the next scripted turn; side requests (titles,
 * summaries) get a short text.
 */
export async function startFakeAnthropic(): Promise<FakeAnthropic> {
  let turns: ScriptedTurn[] = [];
  const requests: RecordedRequest[] = [];
  const api = await startAnthropicMessagesApi({
    respond({ path, body, mainLoop }) {
      if (!mainLoop) return { text: 'Scripted side answer' };
      requests.push({ path, body });
      const turn = turns[0] ?? { text: 'Done.' };
      // A turn whose stream breaks stays first: the CLI's non-streaming retry takes it.
      if (!(turn.streamFails && body.stream)) turns.shift();
      return turn;
    },
  });
  return {
    url: api.url,
    requests,
    script(next) {
      turns = [...next];
    },
    close: () => api.close(),
  };
}
