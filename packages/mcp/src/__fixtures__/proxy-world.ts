import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { ApprovalRequest } from '@signoff/core';
import type { LocalControlPlane } from '@signoff/server';

/**
 * One policy for the registry servers the tests put behind the proxy: the reference filesystem
 * server (its `write_file` lets a test count runs: the file exists or not) and the "everything" server.
 */
export const policy = `
version: 1
default: deny
rules:
  - id: no-env-files
    tool: write_file
    action: deny
    when:
      args.path: { ends_with: ".env" }
    reason: "Agents never write .env files"
  - id: quick-writes
    tool: write_file
    action: escalate
    when:
      args.path: { contains: "quick-expiry" }
    reason: "Needs a yes within a second"
    metadata:
      approver_roles: [finance]
      approval_timeout_minutes: 0.01
  - id: writes
    tool: [write_file, edit_file]
    action: escalate
    reason: "Writing {args.path} needs a reviewer"
    metadata:
      approver_roles: [finance]
  - id: no-moves
    tool: move_file
    action: deny
    reason: "Moving files is not allowed"
  - id: reads
    tool: [read_text_file, list_directory, list_allowed_directories, get_file_info]
    action: allow
  - id: big-sums
    tool: get-sum
    action: escalate
    when:
      args.a: { gt: 100 }
    reason: "Sums over 100 need a reviewer"
    metadata:
      approver_roles: [finance]
  - id: long-operations
    tool: trigger-long-running-operation
    action: escalate
    when:
      args.steps: 3
    reason: "Long operations need a reviewer"
    metadata:
      approver_roles: [finance]
  - id: everything-safe
    tool: [echo, get-sum, trigger-long-running-operation, toggle-simulated-logging, toggle-subscriber-updates]
    action: allow
  - id: no-env
    tool: get-env
    action: deny
    reason: "The environment holds secrets"
`;

const here = fileURLToPath(new URL('.', import.meta.url));
const packageRoot = join(here, '..', '..');
const registryBin = (name: string): string => join(packageRoot, 'node_modules', '@modelcontextprotocol', name, 'dist', 'index.js');

/**
 * Upstream commands of registry servers, run from the installed devDependencies (never `npx -y`:
 * tests do not reach the network).
 */
export const registry = {
  /** `@modelcontextprotocol/server-filesystem` serving `root`. */
  filesystem: (root: string): string[] => [process.execPath, registryBin('server-filesystem'), root],
  /** `@modelcontextprotocol/server-everything` over stdio. */
  everything: (): string[] => [process.execPath, registryBin('server-everything'), 'stdio'],
};

/** A fresh folder for the filesystem server, with one file to read. */
export function sharedFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'signoff-mcp-files-'));
  writeFileSync(join(root, 'readme.txt'), 'hello from the shared drive');
  return root;
}

export interface RunningProxy {
  readonly client: Client;
  /** stderr of the proxy (and the upstream, which inherits it). */
  stderr(): string;
  /** Resolves when the proxy's stdio closed (the proxy exited). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** The `signoff-mcp` command line (the real bin) in front of an upstream command. */
export function proxyCommand(controlPlane: { url: string; agentKey: string }, upstream: readonly string[], extraArgs: readonly string[] = [], policyText = policy) {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-mcp-'));
  const policyFile = join(directory, 'policy.yaml');
  writeFileSync(policyFile, policyText);
  return {
    command: process.execPath,
    args: [join(packageRoot, 'bin', 'signoff-mcp.js'), '--policy', policyFile, '--control-plane', controlPlane.url, ...extraArgs, ...(upstream.length > 0 ? ['--', ...upstream] : [])],
    cwd: packageRoot,
    env: { PATH: process.env.PATH ?? '', SIGNOFF_API_KEY: controlPlane.agentKey },
  };
}

/** Spawns `signoff-mcp` (the real bin) in front of `upstream`, and connects the SDK's own Client to it over stdio. */
export async function startProxy(
  controlPlane: { url: string; agentKey: string },
  upstream: readonly string[],
  extraArgs: readonly string[] = [],
  /** `'2026-07-28'`: the downstream client pins the stateless 2026 revision (default: the SDK's default, the 2025 era). */
  pinRevision?: string,
  /** The proxy's policy (default: the shared `policy`). */
  policyText?: string,
): Promise<RunningProxy> {
  const command = proxyCommand(controlPlane, upstream, extraArgs, policyText);
  const transport = new StdioClientTransport({ ...command, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'test-agent', version: '1.0.0' }, pinRevision ? { versionNegotiation: { mode: { pin: pinRevision } } } : {});
  const closed = new Promise<void>((resolve) => (client.onclose = () => resolve()));
  await client.connect(transport);
  return { client, closed, stderr: () => stderr, close: () => client.close() };
}

/** The pending request the proxy created whose args match, as reviewer ana sees it (waits until it appears). */
export async function pendingRequest(controlPlane: LocalControlPlane, matches: (args: Record<string, unknown>) => boolean): Promise<ApprovalRequest> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = (await controlPlane.actionable('ana')).find((request) => matches(request.args as Record<string, unknown>));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('no pending request matched');
}

/** The pending request for a write to `path`. */
export const pendingWrite = (controlPlane: LocalControlPlane, path: string): Promise<ApprovalRequest> => pendingRequest(controlPlane, (args) => args.path === path);

/** A file name no other test uses, so tests sharing a proxy session never meet each other's requests. */
export function unique(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/** The file's text, or undefined when the upstream never wrote it. */
export function fileText(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** The text of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((part) => part.text ?? '').join('\n');
}

/** Waits until `check` returns something (polls every 50 ms, up to 20 s), for notifications that arrive on their own. */
export async function eventually<T>(check: () => T | undefined): Promise<T> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the awaited event never came');
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Spawns a real process and resolves once its stderr or stdout matches `ready` (rejects if it exits first). */
export async function spawnUntil(command: readonly string[], ready: RegExp, env: Record<string, string> = {}): Promise<{ process: ChildProcess; match: RegExpExecArray; output: () => string; stop: () => Promise<void> }> {
  const [executable, ...args] = command as [string, ...string[]];
  const child = spawn(executable, args, { cwd: packageRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = ready.exec(output);
      if (found) resolve(found);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${executable} exited (${code}) before it was ready: ${output}`)));
  });
  return {
    process: child,
    match,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** The pids of the upstream servers the proxy started, in order (from its "upstream server started (pid N)" lines). */
export function upstreamPids(stderr: string): number[] {
  return [...stderr.matchAll(/upstream server started \(pid (\d+)\)/g)].map((match) => Number(match[1]));
}
