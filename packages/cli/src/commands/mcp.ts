import type { CliIo } from '../cli-io.js';

/**
 * `signoff mcp --policy p.yaml --control-plane URL [options] -- <upstream command …>`: the MCP
 * proxy of `@signoff/mcp` (an optional companion package, with its MCP SDK peers), run in this
 * process. Exits the process when the proxy ends: the client's stdin may still be open after an
 * upstream crash, and nothing else would end it.
 */
export async function mcp(argv: readonly string[], io: CliIo): Promise<number> {
  let proxy: { runSignoffMcp(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<number> };
  try {
    proxy = await import('@signoff/mcp');
  } catch {
    io.err('signoff mcp needs @signoff/mcp and its MCP SDK peers: npm install @signoff/mcp @modelcontextprotocol/server @modelcontextprotocol/client');
    return 1;
  }
  const code = await proxy.runSignoffMcp(argv, process.env);
  process.exit(code);
}
