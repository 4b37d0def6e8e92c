export { APPROVAL_META_KEY, callToolThroughSignoff, type CallThroughOptions, type ProxiedToolCall } from './call-tool-through-signoff.js';
export { createSignoffMcpServer, DEFAULT_HOLD_MS, type SignoffMcpServerOptions } from './create-signoff-mcp-server.js';
export { isAlwaysDenied } from './is-always-denied.js';
export { runSignoffMcp } from './run-signoff-mcp.js';
export { serveStreamableHttp, type StreamableHttpEndpoint } from './serve-streamable-http.js';
