// Types for anthropic-messages-api.mjs (plain JavaScript, shared with the README quick-start harness).

/** One scripted assistant turn: text, tool calls, or both. */
export interface ScriptedTurn {
  readonly text?: string;
  readonly toolUses?: readonly { readonly id: string; readonly name: string; readonly input: Record<string, unknown> }[];
  /**
   * A streaming attempt at this turn breaks mid-stream, so Claude Code falls back to a
   * non-streaming request and gets the whole assistant message at once (as after a network hiccup).
   * Then it sees every tool call of the turn together, which is when it ignores a PreToolUse `defer`.
   */
  readonly streamFails?: boolean;
}

/** A Messages API request body, as the CLI sends it. */
export interface MessagesRequestBody {
  model?: string;
  messages?: { role: string; content: unknown }[];
  tools?: { name: string }[];
  stream?: boolean;
  [key: string]: unknown;
}

export interface MessagesRequest {
  readonly path: string;
  readonly body: MessagesRequestBody;
  /** The request offers tools: the agent's own loop (not a title or summary on the side). */
  readonly mainLoop: boolean;
}

export interface AnthropicMessagesApi {
  /** Base URL for `ANTHROPIC_BASE_URL` (no `/v1`). */
  readonly url: string;
  close(): Promise<void>;
}

export function startAnthropicMessagesApi(options: { respond(request: MessagesRequest): ScriptedTurn }): Promise<AnthropicMessagesApi>;

/** The tool_result blocks in a request's conversation, by tool use id. */
export function toolResultsIn(body: MessagesRequestBody): Map<string, { tool_use_id: string; content?: unknown; is_error?: boolean }>;
