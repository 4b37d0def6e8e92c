// A tiny real MCP server for the tests, spawned over stdio by the proxy. Every tool run is
// appended as one JSON line to $UPSTREAM_CALLS_LOG, so a test sees exactly what reached upstream.
import { appendFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

const log = process.env.UPSTREAM_CALLS_LOG;
const record = (tool: string, args: unknown): void => {
  if (log) appendFileSync(log, `${JSON.stringify({ tool, args })}\n`);
};
const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

serveStdio(() => {
  const server = new McpServer({ name: 'payments-upstream', version: '1.0.0' });
  server.registerTool('balance_get', { description: 'Read the balance', inputSchema: z.object({}) }, async () => {
    record('balance_get', {});
    return text('balance: 1200');
  });
  server.registerTool('payment_send', { description: 'Send a payment', inputSchema: z.object({ to: z.string(), amount: z.number() }) }, async (args, ctx) => {
    record('payment_send', args);
    const progressToken = ctx.mcpReq._meta?.progressToken;
    if (progressToken !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: 1, total: 1, message: 'bank accepted' } });
    return text(`sent ${args.amount} to ${args.to}`);
  });
  server.registerTool('record_delete', { description: 'Delete a record', inputSchema: z.object({ id: z.string() }) }, async (args) => {
    record('record_delete', args);
    return text(`deleted ${args.id}`);
  });
  server.registerTool('payment_fail', { description: 'A payment the bank refuses', inputSchema: z.object({ amount: z.number() }) }, async (args) => {
    record('payment_fail', args);
    return { content: [{ type: 'text' as const, text: 'bank refused the payment' }], isError: true };
  });
  server.registerTool('server_crash', { description: 'Makes this server process die', inputSchema: z.object({}) }, async () => {
    record('server_crash', {});
    process.exit(3);
  });
  server.registerResource('limits', 'payments://limits', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: 'daily limit: 5000' }] }));
  server.registerPrompt('pay-invoice', { description: 'Pay an invoice', argsSchema: z.object({ invoice: z.string() }) }, ({ invoice }) => ({
    messages: [{ role: 'user' as const, content: { type: 'text' as const, text: `Pay invoice ${invoice}` } }],
  }));
  return server;
});
