import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { startLocalControlPlane } from '@signoff/server';

const exampleRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const installed = (name: string, ...path: string[]): string => join(exampleRoot, 'node_modules', name, ...path);
/** The `signoff` command (the real CLI) and the registry's filesystem MCP server, as installed. */
const signoffBin = installed('@signoff/cli', 'bin', 'signoff.js');
const filesystemServer = installed('@modelcontextprotocol/server-filesystem', 'dist', 'index.js');

export interface ExampleRun {
  /** The agent's allowed `list_directory` answer. */
  listing: string;
  /** What the agent read when it tried to write a `.env` file (denied). */
  denied: string;
  /** Whether the denied `.env` file exists (it must not). */
  envWritten: boolean;
  /** What `signoff approvals list` printed for the reviewer while the write was held. */
  reviewerSaw: string;
  /** The held write's answer once the reviewer approved it from the CLI. */
  heldResult: string;
  /** The file the approved write produced. */
  planText: string | undefined;
  /** The same call repeated after it ran. */
  repeated: string;
}

/**
 * The whole example: a control plane, `signoff mcp` in front of the registry's filesystem server,
 * a scripted agent (the SDK's own MCP client), and reviewer Lee approving from the terminal.
 */
export async function runExample(log: (line: string) => void = console.log): Promise<ExampleRun> {
  const drive = mkdtempSync(join(tmpdir(), 'signoff-mcp-drive-'));
  mkdirSync(join(drive, 'notes'));
  writeFileSync(join(drive, 'notes', 'todo.md'), '- ship the MCP proxy\n');
  const policy = join(exampleRoot, 'policy.yaml');
  const controlPlane = await startLocalControlPlane({ policy });
  log(`control plane on ${controlPlane.url}; shared drive ${drive}`);

  // What a Claude Desktop / Cursor entry runs: `signoff mcp … -- <the server it wraps>`.
  const agent = new Client({ name: 'scripted-agent', version: '1.0.0' });
  await agent.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [signoffBin, 'mcp', '--policy', policy, '--control-plane', controlPlane.url, '--hold-seconds', '30', '--', process.execPath, filesystemServer, drive],
      env: { PATH: process.env.PATH ?? '', SIGNOFF_API_KEY: controlPlane.agentKey },
      stderr: 'ignore',
    }),
  );
  const call = async (name: string, args: Record<string, unknown>, onprogress?: (message: string) => void): Promise<string> => {
    const result = await agent.callTool({ name, arguments: args }, onprogress ? { onprogress: (update) => onprogress(update.message ?? ''), resetTimeoutOnProgress: true } : {});
    return (result.content as Array<{ text?: string }>).map((part) => part.text ?? '').join('\n');
  };
  const reviewer = (...args: string[]) =>
    promisify(execFile)(process.execPath, [signoffBin, 'approvals', ...args, '--url', controlPlane.url, '--key', controlPlane.reviewerKey('lee')], { cwd: exampleRoot });

  try {
    const listing = await call('list_directory', { path: join(drive, 'notes') });
    log(`agent: list_directory notes/ → allowed:\n${listing}`);

    const envPath = join(drive, 'deploy.env');
    const denied = await call('write_file', { path: envPath, content: 'TOKEN=hunter2' });
    log(`agent: write_file deploy.env → ${denied}`);

    // The write is escalated: the proxy holds the call (progress keeps the client waiting) while Lee reviews.
    const planPath = join(drive, 'notes', 'plan.md');
    let held = false;
    const write = call('write_file', { path: planPath, content: '# Plan\n1. review\n2. ship\n' }, (message) => {
      if (!held) log(`agent: write_file notes/plan.md is held: ${message}`);
      held = true;
    });
    let reviewerSaw = '';
    for (let attempt = 0; attempt < 100 && !reviewerSaw.includes('apr_'); attempt++) {
      reviewerSaw = (await reviewer('list')).stdout;
      if (!reviewerSaw.includes('apr_')) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    log(`reviewer Lee: signoff approvals list\n${reviewerSaw.trim()}`);
    const approvalId = /apr_[A-Za-z0-9_-]+/.exec(reviewerSaw)?.[0];
    if (!approvalId) throw new Error('the write never reached the reviewer');
    const approved = await reviewer('approve', approvalId, '--comment', 'plan looks right');
    log(`reviewer Lee: signoff approvals approve ${approvalId} → ${approved.stdout.trim()}`);
    const heldResult = await write;
    log(`agent: the held write_file returns → ${heldResult}`);

    const repeated = await call('write_file', { path: planPath, content: '# Plan\n1. review\n2. ship\n' });
    log(`agent: the same write_file again → ${repeated}`);

    return {
      listing,
      denied,
      envWritten: existsSync(envPath),
      reviewerSaw,
      heldResult,
      planText: existsSync(planPath) ? readFileSync(planPath, 'utf8') : undefined,
      repeated,
    };
  } finally {
    await agent.close();
    await controlPlane.close();
  }
}
