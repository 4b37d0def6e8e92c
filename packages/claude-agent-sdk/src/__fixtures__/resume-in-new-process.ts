/**
 * Resumes a deferred session in a fresh Node process, as an agent restarted after a deploy would:
 * a new Signoff client, new hooks, and only the two ids plus the session storage from the first run.
 * Run with `node --import tsx resume-in-new-process.ts '<json>'`; prints the resumed run's tool results as JSON.
 */
import type { Options, SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import { createSignoff } from '@signoff/core';
import { resumeWhenDecided } from '../resume-when-decided.js';
import { signoffHooks } from '../signoff-hooks.js';

interface Input {
  readonly policyFile: string;
  readonly controlPlane: { readonly url: string; readonly apiKey: string };
  readonly sessionId: string;
  readonly toolUseId: string;
  /** The first run's serializable options (cwd, env, model, permissionMode, settingSources). */
  readonly options: Options;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const signoff = createSignoff({ policy: input.policyFile, controlPlane: input.controlPlane });
const messages: SDKMessage[] = [];
try {
  for await (const message of resumeWhenDecided({ signoff, sessionId: input.sessionId, toolUseId: input.toolUseId, options: { ...input.options, hooks: signoffHooks(signoff) } })) {
    messages.push(message);
  }
} catch (error) {
  process.stdout.write(JSON.stringify({ error: (error as { code?: string }).code ?? String(error) }));
  process.exit(0);
}
const toolResults: Record<string, { content: unknown; is_error?: boolean }> = {};
for (const message of messages) {
  if (message.type !== 'user' || !Array.isArray(message.message.content)) continue;
  for (const block of message.message.content) {
    if (typeof block === 'object' && block.type === 'tool_result') toolResults[block.tool_use_id] = { content: block.content, ...(block.is_error === undefined ? {} : { is_error: block.is_error }) };
  }
}
const result = messages.filter((message) => message.type === 'result').at(-1);
process.stdout.write(JSON.stringify({ toolResults, stopReason: result?.type === 'result' ? result.stop_reason : null, pid: process.pid }));
