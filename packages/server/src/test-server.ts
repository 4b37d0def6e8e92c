import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadServerConfig, sha256Hex } from './config/server-config.js';
import { startServer, type RunningServer } from './start-server.js';

/** API keys of the test server, by principal. */
export const TEST_KEYS = {
  agent: 'sk_test_agent_0123456789abcdef',
  ownedAgent: 'sk_test_owned_agent_0123456789',
  ana: 'sk_test_ana_finance_0123456789',
  bo: 'sk_test_bo_finance_01234567890',
  sam: 'sk_test_sam_security_012345678',
  dev: 'sk_test_dev_engineering_012345',
  /** An agent with an escalation budget (max_pending 2, max_escalations_per_hour 4). */
  budgetedAgent: 'sk_test_budgeted_agent_01234567',
} as const;

/** Writes a config next to a fresh SQLite file and starts a real server on a free loopback port. */
export async function startTestServer(options: { sweepSeconds?: number; refusalLimits?: { audited: number; answered: number } } = {}): Promise<RunningServer & { directory: string; cleanup(): Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), 'signoff-server-'));
  const policy = fileURLToPath(new URL('./__fixtures__/policy.yaml', import.meta.url));
  const key = (name: string, kind: 'agent' | 'reviewer', secret: string, extra = '') =>
    `  - { name: ${name}, kind: ${kind}, key_sha256: "${sha256Hex(secret)}"${extra} }`;
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      `policy: ${policy}`,
      'store: sqlite:./signoff.db',
      'listen: 127.0.0.1:0',
      `sweep_interval_seconds: ${options.sweepSeconds ?? 0.05}`,
      ...(options.refusalLimits ? [`refusal_limits: { audited_per_minute: ${options.refusalLimits.audited}, answered_per_minute: ${options.refusalLimits.answered} }`] : []),
      'reviewers:',
      '  - { id: ana, name: Ana, roles: [finance] }',
      '  - { id: bo, name: Bo, roles: [finance] }',
      '  - { id: sam, name: Sam, roles: [security] }',
      '  - { id: dev, name: Dev, roles: [engineering] }',
      'api_keys:',
      key('payments-agent', 'agent', TEST_KEYS.agent),
      key('sams-agent', 'agent', TEST_KEYS.ownedAgent, ', owners: [sam]'),
      key('eager-agent', 'agent', TEST_KEYS.budgetedAgent, ', escalation_budget: { max_pending: 2, max_escalations_per_hour: 4 }'),
      key('ana', 'reviewer', TEST_KEYS.ana, ', reviewer: ana'),
      key('bo', 'reviewer', TEST_KEYS.bo, ', reviewer: bo'),
      key('sam', 'reviewer', TEST_KEYS.sam, ', reviewer: sam'),
      key('dev', 'reviewer', TEST_KEYS.dev, ', reviewer: dev'),
    ].join('\n'),
  );
  const server = await startServer(loadServerConfig(join(directory, 'signoff.yaml')));
  return {
    ...server,
    directory,
    async cleanup() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A JSON response as tests read it. */
export interface TestResponse {
  readonly status: number;
  readonly headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests index into arbitrary JSON
  readonly body: any;
}

/** A fetch against the test server with one of its keys. */
export function client(baseUrl: string, key?: string): (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<TestResponse> {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
  };
}
