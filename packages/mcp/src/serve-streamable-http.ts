import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
  type McpServerFactory,
} from '@modelcontextprotocol/server';

/** A running loopback Streamable HTTP endpoint. */
export interface StreamableHttpEndpoint {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves MCP over Streamable HTTP on 127.0.0.1 only, at `/mcp`, for both protocol eras (one server
 * instance per request, stateless). Host and Origin headers must be loopback names, so a web page
 * cannot reach the proxy through DNS rebinding.
 *
 * @example
 * const endpoint = await serveStreamableHttp(() => createSignoffMcpServer(options), 0);
 * console.error(`listening on ${endpoint.url}`);
 */
export async function serveStreamableHttp(factory: McpServerFactory, port: number, onerror?: (error: Error) => void): Promise<StreamableHttpEndpoint> {
  const handler = createMcpHandler(factory, onerror ? { onerror } : {});
  const fetch = async (request: Request): Promise<Response> => {
    if (new URL(request.url).pathname !== '/mcp') return new Response('Not found', { status: 404 });
    return hostHeaderValidationResponse(request, localhostAllowedHostnames()) ?? originValidationResponse(request, localhostAllowedOrigins()) ?? handler.fetch(request);
  };
  return new Promise((resolve) => {
    const server = serve({ fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}/mcp`,
        close: async () => {
          await handler.close();
          await new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}
