import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { ApprovalRequest } from '@signoff/core';
import type { LocalControlPlane } from '@signoff/server';

/** Tool names use `_`, as most MCP servers do. */
export const policy = `
version: 1
default: deny
rules:
  - id: huge-payments
    tool: payment_send
    action: deny
    when:
      args.amount: { gt: 10000 }
    reason: "Payments over $10,000 are never made by an agent"
  - id: quick-payments
    tool: payment_send
    action: escalate
    when:
      args.to: quick-expiry
    reason: "Needs a yes within a second"
    metadata:
      approver_roles: [finance]
      approval_timeout_minutes: 0.01
  - id: big-payments
    tool: payment_send
    action: escalate
    when:
      args.amount: { gt: 100 }
    reason: "Payments over $100 require approval ({args.amount} to {args.to})"
    metadata:
      approver_roles: [finance]
  - id: small-payments
    tool: payment_send
    action: allow
  - id: no-deletes
    tool: record_delete
    action: deny
    reason: "Deleting records is not allowed"
  - id: read-only
    tool: [balance_get, payment_fail, server_crash]
    action: allow
`;

const here = fileURLToPath(new URL('.', import.meta.url));
const packageRoot = join(here, '..', '..');

export interface RunningProxy {
  readonly client: Client;
  /** What reached the upstream server, in order. */
  upstreamCalls(): Array<{ tool: string; args: Record<string, unknown> }>;
  /** stderr of the proxy (and the upstream, which inherits it). */
  stderr(): string;
  /** Resolves when the proxy's stdio closed (the proxy exited). */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** The `signoff-mcp` command line (the real bin) in front of the fixture upstream server, and where the upstream logs its runs. */
export function proxyCommand(controlPlane: { url: string; agentKey: string }, extraArgs: readonly string[] = []) {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-mcp-'));
  const policyFile = join(directory, 'policy.yaml');
  writeFileSync(policyFile, policy);
  const callsLog = join(directory, 'calls.jsonl');
  return {
    command: process.execPath,
    args: [
      join(packageRoot, 'bin', 'signoff-mcp.js'),
      '--policy', policyFile,
      '--control-plane', controlPlane.url,
      ...extraArgs,
      '--',
      process.execPath, '--import', 'tsx', join(here, 'upstream-server.ts'),
    ],
    cwd: packageRoot,
    env: { PATH: process.env.PATH ?? '', SIGNOFF_API_KEY: controlPlane.agentKey, UPSTREAM_CALLS_LOG: callsLog },
    upstreamCalls: (): Array<{ tool: string; args: Record<string, unknown> }> =>
      existsSync(callsLog) ? readFileSync(callsLog, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [],
  };
}

/** Spawns `signoff-mcp` (the real bin) in front of the fixture upstream server, and connects the SDK's own Client to it over stdio. */
export async function startProxy(
  controlPlane: { url: string; agentKey: string },
  extraArgs: readonly string[] = [],
  /** `'2026-07-28'`: the downstream client pins the stateless 2026 revision (default: the SDK's default, the 2025 era). */
  pinRevision?: string,
): Promise<RunningProxy> {
  const { upstreamCalls, ...command } = proxyCommand(controlPlane, extraArgs);
  const transport = new StdioClientTransport({ ...command, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'test-agent', version: '1.0.0' }, pinRevision ? { versionNegotiation: { mode: { pin: pinRevision } } } : {});
  const closed = new Promise<void>((resolve) => (client.onclose = () => resolve()));
  await client.connect(transport);
  return {
    client,
    closed,
    upstreamCalls,
    stderr: () => stderr,
    close: () => client.close(),
  };
}

/** The pending request the proxy created for a payment to `to`, as reviewer ana sees it (waits until it appears). */
export async function pendingPayment(controlPlane: LocalControlPlane, to: string): Promise<ApprovalRequest> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = (await controlPlane.actionable('ana')).find((request) => (request.args as { to?: string }).to === to);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no pending request for a payment to ${to}`);
}

/** A payee no other test uses, so tests sharing a proxy session never meet each other's requests. */
export function payee(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/** The text of a tool result. */
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((part) => part.text ?? '').join('\n');
}
