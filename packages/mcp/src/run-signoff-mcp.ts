import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { createSignoff } from '@signoff/core';
import { createSignoffMcpServer, DEFAULT_HOLD_MS } from './create-signoff-mcp-server.js';

const USAGE = `usage: signoff-mcp --policy <file> --control-plane <url> [--hold-seconds N] [--hide-denied-tools]
                   [--server-name NAME] [--session ID] -- <upstream command> [args…]
The agent API key is read from SIGNOFF_API_KEY (it is not passed on to the upstream server).`;

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
  if (values.help) return fail(USAGE, 0);
  if (!values.policy || !values['control-plane'] || !command) return fail(`--policy, --control-plane and an upstream command after -- are required\n${USAGE}`);
  if (!apiKey) return fail('SIGNOFF_API_KEY is not set: the proxy needs an agent key for the control plane');
  if (!Number.isFinite(holdSeconds) || holdSeconds < 0) return fail(`--hold-seconds must be a number ≥ 0, got ${values['hold-seconds']}`);

  let signoff: ReturnType<typeof createSignoff>;
  try {
    signoff = createSignoff({ policy: values.policy, controlPlane: { url: values['control-plane'], apiKey } });
  } catch (error) {
    return fail(`signoff-mcp: ${error instanceof Error ? error.message : String(error)}`);
  }

  const { SIGNOFF_API_KEY: _key, ...upstreamEnv } = env;
  const transport = new StdioClientTransport({ command, args: commandArgs, env: definedOnly(upstreamEnv), stderr: 'inherit' });
  const upstream = new Client({ name: 'signoff-mcp', version: '0.1.0' });
  try {
    await upstream.connect(transport);
  } catch (error) {
    return fail(`signoff-mcp: could not start the upstream server ${upstreamCommand.join(' ')}: ${error instanceof Error ? error.message : String(error)}`);
  }

  return new Promise<number>((resolve) => {
    let closing = false;
    const downstream = serveStdio(
      () =>
        createSignoffMcpServer({
          signoff,
          upstream,
          holdMs: holdSeconds * 1000,
          hideDeniedTools: values['hide-denied-tools'] ?? false,
          ...(values['server-name'] ? { serverName: values['server-name'] } : {}),
          ...(values.session ? { session: values.session } : {}),
        }),
      { onerror: (error) => process.stderr.write(`signoff-mcp: ${error.message}\n`) },
    );
    upstream.onclose = () => {
      if (closing) return;
      closing = true;
      process.stderr.write(`signoff-mcp: the upstream server (${upstreamCommand.join(' ')}) exited; closing\n`);
      void downstream.close().finally(() => resolve(1));
    };
    process.stdin.once('end', () => {
      if (closing) return;
      closing = true;
      void upstream.close().finally(() => resolve(0));
    });
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
