import { randomUUID } from 'node:crypto';
import { Client, type ServerNotification } from '@modelcontextprotocol/client';
import { CLIENT_INFO_META_KEY, Server, type CallToolResult, type ServerContext } from '@modelcontextprotocol/server';
import type { Signoff } from '@signoff/core';
import { callToolThroughSignoff } from './call-tool-through-signoff.js';
import { isConnectionLost, type UpstreamConnection } from './connect-upstream.js';
import { isAlwaysDenied } from './is-always-denied.js';

/** Default hold for an escalated call: below the 60 s request timeout most MCP clients use. */
export const DEFAULT_HOLD_MS = 50_000;

/**
 * Options of {@link createSignoffMcpServer}.
 *
 * @example
 * const options: SignoffMcpServerOptions = { signoff, upstream, serverName: 'filesystem', holdMs: 30_000, hideDeniedTools: true };
 */
export interface SignoffMcpServerOptions {
  readonly signoff: Signoff;
  /** A connected MCP client of the real server, or a {@link connectUpstream} connection (which restarts a crashed server). */
  readonly upstream: Client | UpstreamConnection;
  /** How the upstream server is named to reviewers and in `context.mcp.server` (default: the name it reports). */
  readonly serverName?: string;
  /** How long an escalated call is held waiting for reviewers (default {@link DEFAULT_HOLD_MS}). */
  readonly holdMs?: number;
  /** How often a held call sends progress (default 5 s). */
  readonly progressIntervalMs?: number;
  /** Leave out of `tools/list` the tools the policy denies whatever their args (default false: listed, refused when called). */
  readonly hideDeniedTools?: boolean;
  /**
   * Names this connection in idempotency keys and `context.mcp.session` (default: the transport's
   * session id, else a fresh id per connection). Set a stable one to let retries match across proxy restarts.
   */
  readonly session?: string;
  /**
   * Relay the upstream's notifications (log messages, resource updates, list changes) to this
   * server's client (default true). Turn off for servers that live for one HTTP request.
   */
  readonly relayNotifications?: boolean;
}

/**
 * The proxy's downstream face: an MCP server that lists the upstream's tools and runs every
 * `tools/call` through Signoff first (see {@link callToolThroughSignoff}). Use one per connection:
 * `serveStdio(() => createSignoffMcpServer(options))`.
 *
 * @example
 * const upstream = new Client({ name: 'signoff-mcp', version: '1' });
 * await upstream.connect(new StdioClientTransport({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/srv'] }));
 * serveStdio(() => createSignoffMcpServer({ signoff, upstream }));
 */
export function createSignoffMcpServer(options: SignoffMcpServerOptions): Server {
  const connection = options.upstream instanceof Client ? fixedUpstream(options.upstream) : options.upstream;
  const upstream = (): Promise<Client> => connection.client();
  const upstreamInfo = connection.first.getServerVersion();
  const serverName = options.serverName ?? upstreamInfo?.name ?? 'mcp-server';
  const connectionSession = options.session ?? `s_${randomUUID()}`;
  const upstreamCapabilities = connection.first.getServerCapabilities() ?? {};
  const { resources, prompts, completions, logging } = upstreamCapabilities;
  const server = new Server(
    { name: `signoff(${serverName})`, version: upstreamInfo?.version ?? '0.0.0' },
    {
      capabilities: {
        tools: {},
        ...(resources ? { resources: { ...(resources.subscribe ? { subscribe: true } : {}) } } : {}),
        ...(prompts ? { prompts: {} } : {}),
        ...(completions ? { completions: {} } : {}),
        ...(logging ? { logging: {} } : {}),
      },
      ...(connection.first.getInstructions() ? { instructions: connection.first.getInstructions() } : {}),
    },
  );

  // Resources, prompts, completions and log levels serve the client application, not the model's
  // actions: they pass through unguarded.
  if (resources) {
    server.setRequestHandler('resources/list', async (request, ctx) => (await upstream()).listResources(request.params, { signal: ctx.mcpReq.signal }));
    server.setRequestHandler('resources/templates/list', async (request, ctx) => (await upstream()).listResourceTemplates(request.params, { signal: ctx.mcpReq.signal }));
    server.setRequestHandler('resources/read', async (request, ctx) => (await upstream()).readResource(request.params, { signal: ctx.mcpReq.signal }));
  }
  if (resources?.subscribe) {
    server.setRequestHandler('resources/subscribe', async (request, ctx) => (await upstream()).subscribeResource(request.params, { signal: ctx.mcpReq.signal }));
    server.setRequestHandler('resources/unsubscribe', async (request, ctx) => (await upstream()).unsubscribeResource(request.params, { signal: ctx.mcpReq.signal }));
  }
  if (prompts) {
    server.setRequestHandler('prompts/list', async (request, ctx) => (await upstream()).listPrompts(request.params, { signal: ctx.mcpReq.signal }));
    server.setRequestHandler('prompts/get', async (request, ctx) => (await upstream()).getPrompt(request.params, { signal: ctx.mcpReq.signal }));
  }
  if (completions) server.setRequestHandler('completion/complete', async (request, ctx) => (await upstream()).complete(request.params, { signal: ctx.mcpReq.signal }));
  if (logging) server.setRequestHandler('logging/setLevel', async (request, ctx) => (await upstream()).setLoggingLevel(request.params.level, { signal: ctx.mcpReq.signal }));
  if (options.relayNotifications ?? true) {
    const stop = connection.onNotification((notification) => void server.notification(notification as ServerNotification).catch(() => undefined));
    const previous = server.onclose;
    server.onclose = () => {
      stop();
      previous?.();
    };
  }

  server.setRequestHandler('tools/list', async (request, ctx) => {
    const listed = await (await upstream()).listTools(request.params, { signal: ctx.mcpReq.signal });
    if (!options.hideDeniedTools) return listed;
    return { ...listed, tools: listed.tools.filter((tool) => !isAlwaysDenied(options.signoff.policy, tool.name)) };
  });

  server.setRequestHandler('tools/call', async (request, ctx): Promise<CallToolResult> => {
    const { name, arguments: args = {} } = request.params;
    const progressToken = ctx.mcpReq._meta?.progressToken;
    let progress = 0;
    return callToolThroughSignoff(
      options.signoff,
      {
        tool: name,
        args,
        context: { server: serverName, client: clientName(server, ctx), session: options.session ?? ctx.sessionId ?? connectionSession },
      },
      {
        holdMs: options.holdMs ?? DEFAULT_HOLD_MS,
        progressIntervalMs: options.progressIntervalMs ?? 5_000,
        signal: ctx.mcpReq.signal,
        ...(progressToken === undefined
          ? {}
          : { onHoldProgress: (message: string) => ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: ++progress, message } }) }),
        ready: () => upstream().then(() => undefined, upstreamUnavailable),
        forward: async (forwardArgs) => {
          const relayed: Array<Promise<void>> = [];
          let client: Client;
          try {
            client = await upstream();
          } catch (error) {
            return upstreamUnavailable(error);
          }
          try {
            const result = (await client.callTool({ name, arguments: forwardArgs }, forwardOptions(ctx, progress, relayed))) as CallToolResult;
            await Promise.allSettled(relayed); // progress first, then the result: a client drops progress after the result
            return result;
          } catch (error) {
            if (!isConnectionLost(error)) throw error;
            // Never a hang and never a silent retry: the call may have partly run before the server died.
            return {
              content: [{ type: 'text', text: `The upstream server ${serverName} crashed while running ${name} (${error instanceof Error ? error.message : String(error)}); the call may have partly run. It was not retried.` }],
              isError: true,
            };
          }
        },
      },
    );
  });
  return server;
}

function upstreamUnavailable(error: unknown): CallToolResult {
  return { content: [{ type: 'text', text: `Not run: the upstream server is unavailable (${error instanceof Error ? error.message : String(error)}).` }], isError: true };
}

/** A plain connected client as an {@link UpstreamConnection} that never restarts. */
function fixedUpstream(client: Client): UpstreamConnection {
  return {
    first: client,
    client: async () => client,
    // Notifications of a client the caller connected are the caller's to route.
    onNotification: () => () => undefined,
    close: () => client.close(),
  };
}

/** 2025-era clients name themselves at `initialize`; 2026-era (stateless) clients on every request's `_meta`. */
function clientName(server: Server, ctx: ServerContext): string {
  const envelope = ctx.mcpReq.envelope as Record<string, { name?: unknown } | undefined> | undefined;
  const fromRequest = envelope?.[CLIENT_INFO_META_KEY]?.name;
  return server.getClientVersion()?.name ?? (typeof fromRequest === 'string' ? fromRequest : 'unknown');
}

/**
 * Upstream progress reaches the downstream client, shifted past the hold's own progress updates
 * (progress must increase on one token); cancelling the downstream call cancels upstream.
 */
function forwardOptions(ctx: ServerContext, heldUpdates: number, relayed: Array<Promise<void>>): Parameters<Client['callTool']>[1] {
  const progressToken = ctx.mcpReq._meta?.progressToken;
  return {
    signal: ctx.mcpReq.signal,
    ...(progressToken === undefined
      ? {}
      : {
          resetTimeoutOnProgress: true,
          onprogress: (update) => {
            const params = { ...update, progressToken, progress: update.progress + heldUpdates, ...(update.total === undefined ? {} : { total: update.total + heldUpdates }) };
            relayed.push(ctx.mcpReq.notify({ method: 'notifications/progress', params }).catch(() => undefined));
          },
        }),
  };
}
