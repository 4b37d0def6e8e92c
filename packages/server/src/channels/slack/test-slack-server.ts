import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signSlackRequest } from './verify-slack-signature.js';

/** A Web API call the fake received (form params decoded; `blocks` and `metadata` parsed). */
export interface RecordedSlackCall {
  readonly method: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests index into arbitrary JSON
  readonly params: Record<string, any>;
  /** The HTTP status the fake answered with (500 when a failure was injected). */
  readonly status: number;
}

/** A message in a channel of the fake workspace. */
export interface FakeSlackMessage {
  readonly channel: string;
  readonly ts: string;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Block Kit JSON
  blocks: any[];
  metadata: { event_type: string; event_payload: Record<string, unknown> } | undefined;
}

/** How `click` signs the interaction (defaults: the right secret, now). */
export interface ClickOptions {
  readonly url: string;
  readonly signingSecret: string;
  readonly message: FakeSlackMessage;
  readonly actionId: string;
  readonly userId: string;
  readonly timestamp?: number;
  /** Sent instead of the computed signature (a forgery). */
  readonly signature?: string;
  /** The workspace the click claims to come from (default `T0TEST`, the fake's own). */
  readonly teamId?: string;
  /** The channel the click claims to come from (default: the message's). */
  readonly channelId?: string;
}

export interface TestSlackServer {
  /** Web API base URL, ending in `/` (what `slack.api_url` takes). */
  readonly apiUrl: string;
  readonly calls: RecordedSlackCall[];
  readonly messages: FakeSlackMessage[];
  /** Calls to one method, oldest first. */
  callsTo(method: string): RecordedSlackCall[];
  /** The message posted for an approval (by its metadata), if any. */
  messageFor(approvalId: string): FakeSlackMessage | undefined;
  /** Answers the next matching call to `method` with an HTTP error, as Slack does in an outage. */
  failNext(method: string, status: number, when?: (params: Record<string, unknown>) => boolean): void;
  /** Sends a signed `block_actions` interaction for a button of a message, the way Slack does. */
  click(options: ClickOptions): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

const LIMITS = { blocks: 50, header: 150, section: 3_000, field: 2_000, fields: 10, buttonText: 75, value: 2_000, blockId: 255 };

/**
 * A Slack-compatible Web API on loopback: `chat.postMessage`, `chat.update`, `chat.postEphemeral`
 * and `conversations.history` (with message metadata and cursor pagination), checking the bot
 * token and Block Kit's size limits the way Slack does (HTTP 200 with `ok: false` on errors).
 *
 * @example
 * const slack = await startTestSlackServer({ token: 'xoxb-test', channels: ['C0APPROVALS'] });
 */
export async function startTestSlackServer(options: { token: string; channels: readonly string[]; historyPageSize?: number }): Promise<TestSlackServer> {
  const calls: RecordedSlackCall[] = [];
  const messages: FakeSlackMessage[] = [];
  const failures: Array<{ method: string; status: number; when: (params: Record<string, unknown>) => boolean }> = [];
  let sequence = 0;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++sequence).padStart(6, '0')}`;

  function handle(method: string, params: Record<string, unknown>): { status: number; body: Record<string, unknown> } {
    const failure = failures.findIndex((entry) => entry.method === method && entry.when(params));
    if (failure >= 0) {
      const { status } = failures.splice(failure, 1)[0] as { status: number };
      return { status, body: { ok: false, error: 'internal_error' } };
    }
    if (method === 'auth.test') return { status: 200, body: { ok: true, url: 'https://test.slack.com/', team: 'Test', user: 'signoff', team_id: 'T0TEST', user_id: 'U0SIGNOFF', bot_id: 'B0SIGNOFF' } };
    const channel = String(params.channel ?? '');
    if (!options.channels.includes(channel)) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
    switch (method) {
      case 'chat.postMessage': {
        const invalid = blocksProblem(params.blocks);
        if (invalid) return { status: 200, body: { ok: false, error: 'invalid_blocks', errors: [invalid] } };
        const message: FakeSlackMessage = { channel, ts: nextTs(), text: String(params.text ?? ''), blocks: (params.blocks as unknown[]) ?? [], metadata: params.metadata as FakeSlackMessage['metadata'] };
        messages.push(message);
        return { status: 200, body: { ok: true, channel, ts: message.ts, message: { type: 'message', ...message } } };
      }
      case 'chat.update': {
        const message = messages.find((entry) => entry.channel === channel && entry.ts === params.ts);
        if (!message) return { status: 200, body: { ok: false, error: 'message_not_found' } };
        const invalid = blocksProblem(params.blocks);
        if (invalid) return { status: 200, body: { ok: false, error: 'invalid_blocks', errors: [invalid] } };
        Object.assign(message, { text: String(params.text ?? ''), blocks: params.blocks ?? [] }, params.metadata ? { metadata: params.metadata } : {});
        return { status: 200, body: { ok: true, channel, ts: message.ts, text: message.text } };
      }
      case 'chat.postEphemeral':
        if (typeof params.user !== 'string') return { status: 200, body: { ok: false, error: 'user_not_found' } };
        return { status: 200, body: { ok: true, message_ts: nextTs() } };
      case 'conversations.history': {
        const oldest = Number(params.oldest ?? 0);
        const latest = params.latest === undefined ? Number.POSITIVE_INFINITY : Number(params.latest);
        const all = messages.filter((entry) => entry.channel === channel && Number(entry.ts) >= oldest && Number(entry.ts) <= latest).reverse(); // newest first
        const start = params.cursor ? Number(Buffer.from(String(params.cursor), 'base64').toString()) : 0;
        const size = Math.min(Number(params.limit ?? 100), options.historyPageSize ?? 999);
        const page = all.slice(start, start + size).map(({ metadata, ...entry }) => ({
          type: 'message',
          bot_id: 'B0SIGNOFF',
          ...entry,
          ...(params.include_all_metadata === 'true' && metadata ? { metadata } : {}),
        }));
        const more = start + size < all.length;
        return { status: 200, body: { ok: true, messages: page, has_more: more, response_metadata: { next_cursor: more ? Buffer.from(String(start + size)).toString('base64') : '' } } };
      }
      default:
        return { status: 200, body: { ok: false, error: 'unknown_method' } };
    }
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    request.on('end', () => {
      const method = (request.url ?? '').replace(/^\/api\//, '').split('?')[0] as string;
      const params: Record<string, unknown> = Object.fromEntries(new URLSearchParams(raw));
      for (const key of ['blocks', 'metadata']) if (typeof params[key] === 'string') params[key] = JSON.parse(params[key] as string);
      const answer =
        request.headers.authorization !== `Bearer ${options.token}` ? { status: 200, body: { ok: false, error: 'invalid_auth' } } : handle(method, params);
      calls.push({ method, params, status: answer.status });
      response.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${base}/api/`,
    calls,
    messages,
    callsTo: (method) => calls.filter((call) => call.method === method),
    messageFor: (approvalId) => messages.find((message) => message.metadata?.event_payload.approval_id === approvalId),
    failNext(method, status, when = () => true) {
      failures.push({ method, status, when });
    },
    async click(click) {
      const { message } = click;
      const team = click.teamId ?? 'T0TEST';
      const channel = click.channelId ?? message.channel;
      const actions = message.blocks.find((block) => block.type === 'actions');
      const button = actions?.elements.find((element: { action_id: string }) => element.action_id === click.actionId);
      if (!button) throw new Error(`message ${message.ts} has no ${click.actionId} button`);
      const payload = {
        type: 'block_actions',
        user: { id: click.userId, username: click.userId.toLowerCase(), name: click.userId.toLowerCase(), team_id: team },
        api_app_id: 'A0SIGNOFF',
        token: 'deprecated-verification-token',
        container: { type: 'message', message_ts: message.ts, channel_id: channel, is_ephemeral: false },
        trigger_id: `${sequence}.${randomBytes(6).toString('hex')}`,
        team: { id: team, domain: 'test' },
        enterprise: null,
        is_enterprise_install: false,
        channel: { id: channel, name: 'approvals' },
        message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks, bot_id: 'B0SIGNOFF' },
        state: { values: {} },
        response_url: `${base}/actions/${team}/${randomBytes(6).toString('hex')}`,
        actions: [{ ...button, block_id: actions.block_id, action_ts: `${Date.now() / 1000}` }],
      };
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const timestamp = String(click.timestamp ?? Math.floor(Date.now() / 1000));
      const response = await fetch(click.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
          'x-slack-request-timestamp': timestamp,
          'x-slack-signature': click.signature ?? signSlackRequest(click.signingSecret, timestamp, body),
        },
        body,
      });
      return { status: response.status, body: await response.text() };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Block Kit limits Slack enforces with `invalid_blocks`; the first one broken, or undefined. */
function blocksProblem(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks) || blocks.length > LIMITS.blocks) return 'blocks must be an array of at most 50';
  for (const [index, block] of blocks.entries()) {
    const at = `[${index}] ${block.type}`;
    if (block.block_id !== undefined && String(block.block_id).length > LIMITS.blockId) return `${at}: block_id too long`;
    if (block.type === 'header' && (block.text?.type !== 'plain_text' || block.text.text.length > LIMITS.header)) return `${at}: header text`;
    if (block.type === 'section') {
      if (block.text && block.text.text.length > LIMITS.section) return `${at}: text longer than ${LIMITS.section}`;
      if (block.fields && (block.fields.length > LIMITS.fields || block.fields.some((field: { text: string }) => field.text.length > LIMITS.field))) return `${at}: fields`;
    }
    if (block.type === 'actions') {
      for (const element of block.elements ?? []) {
        if (element.text?.text.length > LIMITS.buttonText || String(element.value ?? '').length > LIMITS.value) return `${at}: button`;
      }
    }
  }
  return undefined;
}
