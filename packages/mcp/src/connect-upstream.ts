import { Client, SdkError, SdkErrorCode, StreamableHTTPClientTransport, type ServerNotification } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

/** The real MCP server behind the proxy: a stdio command the proxy starts, or a Streamable HTTP URL. */
export type UpstreamTarget =
  | { readonly command: string; readonly args?: readonly string[]; readonly env?: Record<string, string>; readonly cwd?: string }
  | { readonly url: string; readonly headers?: Record<string, string> };

/**
 * Options of {@link connectUpstream}.
 *
 * @example
 * const options: UpstreamOptions = { target: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv'] }, restarts: 3 };
 */
export interface UpstreamOptions {
  readonly target: UpstreamTarget;
  /** How many times in all a crashed stdio upstream is restarted before the proxy gives up (default 3; 0: never). URLs are not restarted. */
  readonly restarts?: number;
  /** Delay before the first restart; it doubles on each further restart, up to 5 s (default 250 ms). */
  readonly restartDelayMs?: number;
  /** What happened, one line each (started, crashed, restarting); the CLI writes them to stderr. */
  readonly onEvent?: (message: string) => void;
  /** The upstream is gone for good (restarts used up): the proxy should stop. */
  readonly onGone?: (reason: string) => void;
}

/** A connection to the upstream server that survives its restarts. */
export interface UpstreamConnection {
  /** The client of the first successful start: its server info and capabilities describe the upstream. */
  readonly first: Client;
  /** The connected client; waits while the upstream restarts, rejects once it is gone for good. */
  client(): Promise<Client>;
  /** Server-to-client notifications of the upstream (logging, resource updates, list changes), whichever process sends them. */
  onNotification(listener: (notification: ServerNotification) => void): () => void;
  close(): Promise<void>;
}

/** The notifications the proxy relays downstream. */
const RELAYED = [
  'notifications/message',
  'notifications/resources/updated',
  'notifications/resources/list_changed',
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
] as const;

const MAX_RESTART_DELAY_MS = 5_000;

/**
 * Starts (or reaches) the upstream MCP server and keeps it connected: a stdio server that exits
 * on its own is restarted up to `restarts` times with a doubling delay; calls made meanwhile wait
 * for the new process, and once the restarts are used up they fail (fail-closed) and `onGone` fires.
 *
 * @example
 * const upstream = await connectUpstream({ target: { url: 'http://127.0.0.1:3001/mcp', headers: { Authorization: 'Bearer …' } } });
 * const tools = await (await upstream.client()).listTools();
 */
export async function connectUpstream(options: UpstreamOptions): Promise<UpstreamConnection> {
  const listeners = new Set<(notification: ServerNotification) => void>();
  const describe = 'url' in options.target ? options.target.url : [options.target.command, ...(options.target.args ?? [])].join(' ');
  let closing = false;
  let restarts = 0;

  const start = async (): Promise<Client> => {
    const client = new Client({ name: 'signoff-mcp', version: '0.1.0' });
    for (const method of RELAYED) client.setNotificationHandler(method, (notification) => listeners.forEach((listener) => listener(notification)));
    const transport = transportFor(options.target);
    await client.connect(transport);
    if (transport instanceof StdioClientTransport) options.onEvent?.(`upstream server started (pid ${transport.pid}): ${describe}`);
    client.onclose = () => {
      if (closing || 'url' in options.target) return;
      const limit = options.restarts ?? 3;
      if (restarts >= limit) {
        const reason = `the upstream server (${describe}) exited${limit === 0 ? '' : ` again after ${limit} restart${limit === 1 ? '' : 's'}`}`;
        current = Promise.reject(new UpstreamGoneError(reason));
        current.catch(() => undefined);
        options.onGone?.(reason);
        return;
      }
      restarts++;
      const delay = Math.min(MAX_RESTART_DELAY_MS, (options.restartDelayMs ?? 250) * 2 ** (restarts - 1));
      options.onEvent?.(`the upstream server exited unexpectedly; restarting in ${delay} ms (restart ${restarts} of ${limit})`);
      current = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => restart());
      current.catch(() => undefined);
    };
    return client;
  };
  // A failed restart counts as one more crash: it either tries again (within the limit) or gives up.
  const restart = async (): Promise<Client> => {
    try {
      return await start();
    } catch (error) {
      const reason = `the upstream server (${describe}) did not restart: ${error instanceof Error ? error.message : String(error)}`;
      options.onGone?.(reason);
      throw new UpstreamGoneError(reason);
    }
  };

  const first = await start();
  let current: Promise<Client> = Promise.resolve(first);
  return {
    first,
    client: () => current,
    onNotification: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: async () => {
      closing = true;
      const client = await current.catch(() => undefined);
      await client?.close();
    },
  };
}

/** The upstream cannot be reached any more (restarts used up, or it did not come back). */
export class UpstreamGoneError extends Error {
  override readonly name = 'UpstreamGoneError';
}

/** Whether a failed upstream request failed because the upstream connection closed under it (the process died). */
export function isConnectionLost(error: unknown): boolean {
  return error instanceof UpstreamGoneError || (error instanceof SdkError && (error.code === SdkErrorCode.ConnectionClosed || error.code === SdkErrorCode.NotConnected));
}

function transportFor(target: UpstreamTarget): StdioClientTransport | StreamableHTTPClientTransport {
  if ('url' in target) return new StreamableHTTPClientTransport(new URL(target.url), target.headers ? { requestInit: { headers: target.headers } } : {});
  return new StdioClientTransport({
    command: target.command,
    args: [...(target.args ?? [])],
    ...(target.env ? { env: target.env } : {}),
    ...(target.cwd ? { cwd: target.cwd } : {}),
    stderr: 'inherit',
  });
}
