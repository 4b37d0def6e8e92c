import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { query, type Options, type SDKMessage, type SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { startFakeAnthropic, type FakeAnthropic } from './fake-anthropic.js';

export const policyFile = fileURLToPath(new URL('./coding-policy.yaml', import.meta.url));
/** Writes under here are inside the workspace (the policy allows them). */
export const WORKSPACE_ROOT = '/tmp/signoff-claude-ws/';

export interface ClaudeHarness {
  readonly fake: FakeAnthropic;
  /** Claude Code's home: sessions live here, so a resume must use the same one. */
  readonly configDir: string;
  /** The agent's working directory, inside the workspace. */
  readonly cwd: string;
  /** A directory outside the workspace. */
  readonly outside: string;
  /** SDK options every run shares: the real bundled CLI, pointed at the scripted API. */
  baseOptions(): Options;
  run(prompt: string, options: Options): Promise<SDKMessage[]>;
  close(): Promise<void>;
}

export async function startClaudeHarness(): Promise<ClaudeHarness> {
  const fake = await startFakeAnthropic();
  const configDir = mkdtempSync(join(tmpdir(), 'signoff-claude-home-'));
  mkdirSync(WORKSPACE_ROOT, { recursive: true });
  const cwd = mkdtempSync(WORKSPACE_ROOT);
  const outside = mkdtempSync(join(tmpdir(), 'signoff-claude-outside-'));
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: configDir,
    CLAUDE_CONFIG_DIR: configDir,
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-offline-test',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
  };
  const baseOptions = (): Options => ({ cwd, env, model: 'claude-sonnet-4-5', permissionMode: 'default', settingSources: [] });
  return {
    fake,
    configDir,
    cwd,
    outside,
    baseOptions,
    async run(prompt, options) {
      const messages: SDKMessage[] = [];
      for await (const message of query({ prompt, options })) messages.push(message);
      return messages;
    },
    close: () => fake.close(),
  };
}

export function resultOf(messages: readonly SDKMessage[]): SDKResultMessage {
  const result = messages.filter((message): message is SDKResultMessage => message.type === 'result').at(-1);
  if (!result) throw new Error('the run ended without a result message');
  return result;
}

/** The tool_result blocks the CLI sent back, by tool use id. */
export function toolResults(messages: readonly SDKMessage[]): Map<string, { content: unknown; is_error?: boolean }> {
  const results = new Map<string, { content: unknown; is_error?: boolean }>();
  for (const message of messages) {
    if (message.type !== 'user' || !Array.isArray(message.message.content)) continue;
    for (const block of message.message.content) {
      if (typeof block === 'object' && block.type === 'tool_result') results.set(block.tool_use_id, { content: block.content, ...(block.is_error === undefined ? {} : { is_error: block.is_error }) });
    }
  }
  return results;
}
