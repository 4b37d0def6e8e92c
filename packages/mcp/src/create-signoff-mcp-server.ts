import { randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/client';
import { CLIENT_INFO_META_KEY, Server, type CallToolResult, type ServerContext } from '@modelcontextprotocol/server';
import type { Signoff } from '@signoff/core';
import { callToolThroughSignoff } from './call-tool-through-signoff.js';
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
  /** A connected MCP client of the real server. */
  readonly upstream: Client;
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
  const upstreamInfo = options.upstream.getServerVersion();
  const serverName = options.serverName ?? upstreamInfo?.name ?? 'mcp-server';
  const connectionSession = options.session ?? `s_${randomUUID()}`;
  const upstreamCapabilities = options.upstream.getServerCapabilities() ?? {};
  const server = new Server(
    { name: `signoff(${serverName})`, version: upstreamInfo?.version ?? '0.0.0' },
    {
      capabilities: { tools: {}, ...(upstreamCapabilities.resources ? { resources: {} } : {}), ...(upstreamCapabilities.prompts ? { prompts: {} } : {}) },
      ...(options.upstream.getInstructions() ? { instructions: options.upstream.getInstructions() } : {}),
    },
  );

  // Resources and prompts are read by the client application, not called by the model: they pass through unguarded.
  if (upstreamCapabilities.resources) {
    server.setRequestHandler('resources/list', (request, ctx) => options.upstream.listResources(request.params, { signal: ctx.mcpReq.signal }));
    server.setRequestHandler('resources/templates/list', (request, ctx) => options.upstream.listResourceTemplates(request.params, { signal: ctx.mcpReq.signal }));
    server.setRequestHandler('resources/read', (request, ctx) => options.upstream.readResource(request.params, { signal: ctx.mcpReq.signal }));
  }
  if (upstreamCapabilities.prompts) {
    server.setRequestHandler('prompts/list', (request, ctx) => options.upstream.listPrompts(request.params, { signal: ctx.mcpReq.signal }));
    server.setRequestHandler('prompts/get', (request, ctx) => options.upstream.getPrompt(request.params, { signal: ctx.mcpReq.signal }));
  }

  server.setRequestHandler('tools/list', async (request, ctx) => {
    const listed = await options.upstream.listTools(request.params, { signal: ctx.mcpReq.signal });
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
        forward: async (forwardArgs) => {
          const relayed: Array<Promise<void>> = [];
          const result = (await options.upstream.callTool({ name, arguments: forwardArgs }, forwardOptions(ctx, progress, relayed))) as CallToolResult;
          await Promise.allSettled(relayed); // progress first, then the result: a client drops progress after the result
          return result;
        },
      },
    );
  });
  return server;
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
