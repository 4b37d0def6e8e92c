import type { CliIo } from '../cli-io.js';

/** The proxy's command lines, as `signoff --help` lists them. */
export const MCP_USAGE = `  mcp --policy <policy.yaml> --control-plane <url> [--hold-seconds N] [--http PORT] [--restart N] -- <upstream MCP server command>
  mcp --policy <policy.yaml> --control-plane <url> --upstream-url <url> [--upstream-header "Name: value"]
      Put the policy in front of an MCP server (needs @signoff/mcp; signoff mcp --help for all options).`;

interface McpProxy {
  runSignoffMcp(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<number>;
}

/**
 * `signoff mcp --policy p.yaml --control-plane URL [options] -- <upstream command …>`: the MCP
 * proxy of `@signoff/mcp` (an optional companion package, with its MCP SDK peers), run in this
 * process. Exits the process when the proxy ends: the client's stdin may still be open after an
 * upstream crash, and nothing else would end it.
 */
export async function mcp(argv: readonly string[], io: CliIo, load: () => Promise<McpProxy> = () => import('@signoff/mcp')): Promise<number> {
  let proxy: McpProxy;
  try {
    proxy = await load();
  } catch {
    const install = 'signoff mcp needs @signoff/mcp and its MCP SDK peers: npm install @signoff/mcp @modelcontextprotocol/server @modelcontextprotocol/client';
    // --help still answers (before any `--`, after which the arguments are the upstream's).
    const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
    if (own.includes('--help') || own.includes('-h')) {
      io.out(`${MCP_USAGE}\n\n${install}\n(with it installed, signoff mcp --help lists every option)`);
      return 0;
    }
    io.err(install);
    return 1;
  }
  const code = await proxy.runSignoffMcp(argv, process.env);
  process.exit(code);
}
