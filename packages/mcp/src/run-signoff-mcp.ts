import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { createSignoff } from '@signoff/core';
import { connectUpstream, type UpstreamConnection, type UpstreamTarget } from './connect-upstream.js';
import { createSignoffMcpServer, DEFAULT_HOLD_MS } from './create-signoff-mcp-server.js';
import { serveStreamableHttp } from './serve-streamable-http.js';

const USAGE = `usage: signoff-mcp --policy <file> --control-plane <url> [--hold-seconds N] [--hide-denied-tools]
                   [--server-name NAME] [--session ID] [--http PORT] [--restart N] -- <upstream command> [args…]
       signoff-mcp … --upstream-url <http(s)://…/mcp> [--upstream-header "Name: value"]…
Serves MCP on stdio, or with --http on http://127.0.0.1:PORT/mcp (Streamable HTTP, loopback only).
The upstream is a stdio command (restarted up to --restart times, default 3, if it crashes) or a
Streamable HTTP URL. The agent API key is read from SIGNOFF_API_KEY (it is not passed on upstream).`;

/**
 * The `signoff-mcp` command: starts the upstream MCP server (a stdio command), then serves the
 * guarded proxy on this process's stdio. Resolves with the exit code once either side closes;
 * an upstream crash is reported on stderr and ends the proxy (exit 1), so the client never hangs.
 *
 * @example
 * process.exitCode = await runSignoffMcp(['--policy', 'p.yaml', '--control-plane', 'http://127.0.0.1:7070', '--', 'node', 'server.js']);
 */
export async function runSignoffMcp(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const separator = argv.indexOf('--');
  const upstreamCommand = separator === -1 ? [] : argv.slice(separator + 1);
  let values: ReturnType<typeof parse>;
  try {
    values = parse(separator === -1 ? argv : argv.slice(0, separator));
  } catch (error) {
    return fail(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  const apiKey = env.SIGNOFF_API_KEY;
  const holdSeconds = values['hold-seconds'] === undefined ? DEFAULT_HOLD_MS / 1000 : Number(values['hold-seconds']);
  const [command, ...commandArgs] = upstreamCommand;
  const upstreamUrl = values['upstream-url'];
  if (values.help) return fail(USAGE, 0);
  if (!values.policy || !values['control-plane'] || (!command && !upstreamUrl)) {
    return fail(`--policy, --control-plane and an upstream (a command after --, or --upstream-url) are required\n${USAGE}`);
  }
  if (command && upstreamUrl) return fail(`give either an upstream command after -- or --upstream-url, not both\n${USAGE}`);
  if (upstreamUrl !== undefined && !/^https?:\/\//.test(upstreamUrl)) return fail(`--upstream-url must be an http:// or https:// URL, got ${upstreamUrl}`);
  const headers: Record<string, string> = {};
  for (const header of values['upstream-header'] ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) return fail(`--upstream-header must look like "Name: value", got ${header}`);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  if (values['upstream-header'] && !upstreamUrl) return fail('--upstream-header goes with --upstream-url');
  const restarts = values.restart === undefined ? 3 : Number(values.restart);
  if (!Number.isInteger(restarts) || restarts < 0) return fail(`--restart must be a whole number ≥ 0, got ${values.restart}`);
  if (!apiKey) return fail('SIGNOFF_API_KEY is not set: the proxy needs an agent key for the control plane');
  if (!Number.isFinite(holdSeconds) || holdSeconds < 0) return fail(`--hold-seconds must be a number ≥ 0, got ${values['hold-seconds']}`);
  const httpPort = values.http === undefined ? undefined : Number(values.http);
  if (httpPort !== undefined && !(Number.isInteger(httpPort) && httpPort >= 0 && httpPort < 65536)) return fail(`--http must be a port number, got ${values.http}`);

  let signoff: ReturnType<typeof createSignoff>;
  try {
    signoff = createSignoff({ policy: values.policy, controlPlane: { url: values['control-plane'], apiKey } });
  } catch (error) {
    return fail(`signoff-mcp: ${error instanceof Error ? error.message : String(error)}`);
  }

  const { SIGNOFF_API_KEY: _key, ...upstreamEnv } = env;
  const target: UpstreamTarget = upstreamUrl
    ? { url: upstreamUrl, ...(Object.keys(headers).length > 0 ? { headers } : {}) }
    : { command: command as string, args: commandArgs, env: definedOnly(upstreamEnv) };
  const log = (message: string): void => void process.stderr.write(`signoff-mcp: ${message}\n`);
  let upstreamGone: (reason: string) => void = () => undefined;
  const gone = new Promise<string>((resolve) => (upstreamGone = resolve));
  let upstream: UpstreamConnection;
  try {
    upstream = await connectUpstream({ target, restarts, onEvent: log, onGone: (reason) => upstreamGone(reason) });
  } catch (error) {
    return fail(`signoff-mcp: could not start the upstream server ${upstreamUrl ?? upstreamCommand.join(' ')}: ${error instanceof Error ? error.message : String(error)}`);
  }

  const onerror = (error: Error): void => void process.stderr.write(`signoff-mcp: ${error.message}\n`);
  // Over HTTP every request gets its own server instance: the session is this proxy process.
  const session = values.session ?? (httpPort === undefined ? undefined : `s_${randomUUID()}`);
  const factory = () =>
    createSignoffMcpServer({
      signoff,
      upstream,
      holdMs: holdSeconds * 1000,
      hideDeniedTools: values['hide-denied-tools'] ?? false,
      ...(values['server-name'] ? { serverName: values['server-name'] } : {}),
      ...(session ? { session } : {}),
      // A server per HTTP request has nobody to relay notifications to once the request is answered.
      relayNotifications: httpPort === undefined,
    });
  let downstream: { close(): Promise<void> };
  if (httpPort === undefined) {
    downstream = serveStdio(factory, { onerror });
  } else {
    const endpoint = await serveStreamableHttp(factory, httpPort, onerror);
    process.stderr.write(`signoff-mcp: listening on ${endpoint.url}\n`);
    downstream = endpoint;
  }

  return new Promise<number>((resolve) => {
    let closing = false;
    const stop = (code: number, closeUpstream: boolean) => {
      if (closing) return;
      closing = true;
      // Calls allowed in the last second are still queued for the call history: send them before exiting,
      // for at most 2 s (a control plane that does not answer cannot hold the exit).
      const flushed = Promise.race([signoff.flushCalls(), new Promise((done) => setTimeout(done, 2_000).unref())]);
      void Promise.allSettled([downstream.close(), closeUpstream ? upstream.close() : undefined, flushed]).then(() => resolve(code));
    };
    void gone.then((reason) => {
      if (closing) return;
      log(`${reason}; closing`);
      stop(1, false);
    });
    if (httpPort === undefined) process.stdin.once('end', () => stop(0, true));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop(0, true));
  });
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    strict: true,
    options: {
      policy: { type: 'string' },
      'control-plane': { type: 'string' },
      'hold-seconds': { type: 'string' },
      'hide-denied-tools': { type: 'boolean' },
      'server-name': { type: 'string' },
      session: { type: 'string' },
      http: { type: 'string' },
      restart: { type: 'string' },
      'upstream-url': { type: 'string' },
      'upstream-header': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
}

function fail(message: string, code = 2): number {
  process.stderr.write(`${message}\n`);
  return code;
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
