import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { query, type Options, type SDKMessage, type SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { callsAwaitingApproval, resumeWhenDecided, signoffOptions } from '@signoff/claude-agent-sdk';
import { createSignoff } from '@signoff/core';
import { startLocalControlPlane } from '@signoff/server';
// The package's scripted Anthropic Messages API (loopback), reused as is: no model, no network.
import { startFakeAnthropic, type FakeAnthropic } from '../../../packages/claude-agent-sdk/src/__fixtures__/fake-anthropic.js';

const policyFile = fileURLToPath(new URL('../policy.yaml', import.meta.url));
/** The policy allows writes under here (the `write-in-workspace` rule). */
const WORKSPACE_ROOT = '/tmp/signoff-claude-example/';

export interface RunAgentOptions {
  /** Use the scripted API even when `ANTHROPIC_API_KEY` is set. Default: scripted unless the key is set. */
  readonly offline?: boolean;
  readonly log?: (line: string) => void;
}

/** What the run did, as seen from outside the agent: files, the remote repository, the control plane. */
export interface AgentRun {
  /** The first run's stop reason: `tool_deferred` when it paused on the push. */
  readonly firstStopReason: string | null;
  /** The allowed call ran: `checked.txt` exists. */
  readonly allowedCallRan: boolean;
  /** The `rm -rf` call ran: `cleaned.txt` exists (never). */
  readonly rmRan: boolean;
  /** What the agent was told for each refused call (tool results with `is_error`). */
  readonly refusals: string[];
  /** `pushes.log` lines before the reviewer decided, after the resume, and after resuming once more. */
  readonly pushesBeforeApproval: string[];
  readonly pushesAfterResume: string[];
  readonly pushesAfterSecondResume: string[];
  /** The remote's `main` is the workspace's commit: the push really happened. */
  readonly remoteUpToDate: boolean;
  /** The approval request's status at the end (`executed`: claimed once, by the resumed run). */
  readonly approvalStatus: string | undefined;
  /** What resuming the same session again did: the error code (`ALREADY_EXECUTED`), or `ran` if it ran. */
  readonly secondResume: string;
}

/**
 * A coding agent on the Claude Agent SDK (the real bundled Claude Code) with Signoff's recommended
 * setup, `signoffOptions`: an allowed shell command runs, `rm -rf` is refused with the policy's
 * reason, and a `git push` is deferred — the run ends. Reviewer Lee approves on the control plane
 * (played here through its API), the session resumes and the push runs once; resuming again runs nothing.
 */
export async function runAgent(runOptions: RunAgentOptions = {}): Promise<AgentRun> {
  const log = runOptions.log ?? console.log;
  const offline = runOptions.offline ?? !process.env.ANTHROPIC_API_KEY;
  const controlPlane = await startLocalControlPlane({ policy: policyFile });
  const fake: FakeAnthropic | undefined = offline ? await startFakeAnthropic() : undefined;
  try {
    const signoff = createSignoff({ policy: policyFile, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
    const { repo, remote } = makeWorkspace();
    const pushes = (): string[] => (existsSync(join(repo, 'pushes.log')) ? readFileSync(join(repo, 'pushes.log'), 'utf8').split('\n').filter(Boolean) : []);
    const pushCommand = 'git push -q origin main && echo pushed >> pushes.log';

    // Claude Code keeps its sessions in CLAUDE_CONFIG_DIR: a resume (in this process or another) uses the same one.
    const configDir = mkdtempSync(join(tmpdir(), 'signoff-claude-home-'));
    const env: Record<string, string | undefined> = fake
      ? {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: configDir,
          CLAUDE_CONFIG_DIR: configDir,
          ANTHROPIC_BASE_URL: fake.url,
          ANTHROPIC_API_KEY: 'sk-ant-offline-example',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_TELEMETRY: '1',
          DISABLE_AUTOUPDATER: '1',
        }
      : { ...process.env, CLAUDE_CONFIG_DIR: configDir };
    // The recommended setup: `signoffOptions` gives the PreToolUse hooks and the canUseTool backstop.
    const options: Options = {
      cwd: repo,
      env,
      settingSources: [],
      permissionMode: 'default',
      ...(fake ? { model: 'claude-sonnet-4-5' } : {}),
      ...signoffOptions(signoff, { permissionMode: 'default' }),
    };

    fake?.script([
      { text: 'First, a quick check.', toolUses: [{ id: 'toolu_check', name: 'Bash', input: { command: 'git status --short && echo ok > checked.txt', description: 'Check the working tree' } }] },
      { text: 'Cleaning the build output.', toolUses: [{ id: 'toolu_clean', name: 'Bash', input: { command: 'rm -rf build && touch cleaned.txt', description: 'Clean the build' } }] },
      { text: 'Pushing.', toolUses: [{ id: 'toolu_push', name: 'Bash', input: { command: pushCommand, description: 'Push main' } }] },
    ]);
    const prompt = [
      'You are in a git repository. Run these shell commands with the Bash tool, one tool call per message, in order:',
      '1. `git status --short && echo ok > checked.txt`',
      '2. `rm -rf build && touch cleaned.txt`',
      `3. \`${pushCommand}\``,
      'If a command is refused, do not retry it or work around it; go on with the next one.',
    ].join('\n');

    log(`🤖 ${offline ? 'scripted API (offline)' : 'Claude (ANTHROPIC_API_KEY)'} — workspace ${repo}`);
    const messages: SDKMessage[] = [];
    for await (const message of query({ prompt, options })) {
      messages.push(message);
      logMessage(message, log);
    }
    const first = resultOf(messages);
    const waiting = callsAwaitingApproval(first, signoff);
    log(`⏸  run ended: ${first.stop_reason}; waiting for approval: ${waiting.map((call) => `${call.toolName} ${call.toolUseId}`).join(', ') || 'nothing'}`);
    const pushesBeforeApproval = pushes();

    // Reviewer Lee (engineering-lead) approves the push on the control plane — in real life from the inbox, Slack or email.
    for (const request of await controlPlane.actionable('lee')) {
      log(`👩 Lee approves ${request.tool} ${JSON.stringify(request.args)}`);
      await controlPlane.decide(request.id, 'lee', 'approve', { comment: 'CI is green' });
    }

    // Store session_id + toolUseId anywhere; this could be another process, hours later.
    fake?.script([{ text: 'Pushed main; rm -rf was refused by policy.' }]);
    for (const call of waiting) {
      log(`▶  resuming ${first.session_id} for ${call.toolUseId}`);
      for await (const message of resumeWhenDecided({ signoff, sessionId: first.session_id, toolUseId: call.toolUseId, retry: call.retry, options })) {
        messages.push(message);
        logMessage(message, log);
      }
    }
    const pushesAfterResume = pushes();

    // Resuming the same call again (a replayed job, a double click) runs nothing.
    let secondResume = 'nothing to resume';
    const [again] = waiting;
    if (again) {
      try {
        for await (const message of resumeWhenDecided({ signoff, sessionId: first.session_id, toolUseId: again.toolUseId, retry: again.retry, options })) logMessage(message, log);
        secondResume = 'ran';
      } catch (error) {
        secondResume = (error as { code?: string }).code ?? String(error);
      }
      log(`🔁 resuming again: ${secondResume}`);
    }

    const approval = again ? await signoff.findApproval(`claude:${first.session_id}:${again.toolUseId}`) : undefined;
    const head = (gitDir: string): string => execFileSync('git', ['--git-dir', gitDir, 'rev-parse', 'main'], { encoding: 'utf8' }).trim();
    return {
      firstStopReason: first.stop_reason,
      allowedCallRan: existsSync(join(repo, 'checked.txt')),
      rmRan: existsSync(join(repo, 'cleaned.txt')),
      refusals: refusalsIn(messages),
      pushesBeforeApproval,
      pushesAfterResume,
      pushesAfterSecondResume: pushes(),
      remoteUpToDate: head(remote) === head(join(repo, '.git')),
      approvalStatus: approval?.status,
      secondResume,
    };
  } finally {
    await fake?.close();
    await controlPlane.close();
  }
}

/** A git repository with one commit and a local bare remote, so `git push` really pushes, offline. */
function makeWorkspace(): { repo: string; remote: string } {
  mkdirSync(WORKSPACE_ROOT, { recursive: true });
  const root = mkdtempSync(WORKSPACE_ROOT);
  const repo = join(root, 'repo');
  const remote = join(root, 'remote.git');
  const git = (cwd: string, ...args: string[]): void => {
    execFileSync('git', ['-c', 'user.name=Example', '-c', 'user.email=example@signoff.dev', ...args], { cwd, stdio: 'ignore' });
  };
  mkdirSync(repo);
  git(root, 'init', '-q', '--bare', '-b', 'main', remote);
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'commit', '-q', '--allow-empty', '-m', 'Fix the build');
  git(repo, 'remote', 'add', 'origin', remote);
  return { repo, remote };
}

function resultOf(messages: readonly SDKMessage[]): SDKResultMessage {
  const result = messages.filter((message): message is SDKResultMessage => message.type === 'result').at(-1);
  if (!result) throw new Error('the run ended without a result message');
  return result;
}

function refusalsIn(messages: readonly SDKMessage[]): string[] {
  const refusals: string[] = [];
  for (const message of messages) {
    if (message.type !== 'user' || !Array.isArray(message.message.content)) continue;
    for (const block of message.message.content) {
      if (typeof block === 'object' && block.type === 'tool_result' && block.is_error) refusals.push(typeof block.content === 'string' ? block.content : JSON.stringify(block.content));
    }
  }
  return refusals;
}

function logMessage(message: SDKMessage, log: (line: string) => void): void {
  if (message.type === 'assistant') {
    for (const block of message.message.content) {
      if (block.type === 'text') log(`💬 ${block.text}`);
      if (block.type === 'tool_use') log(`🔧 ${block.name} ${JSON.stringify(block.input)}`);
    }
  } else if (message.type === 'user' && Array.isArray(message.message.content)) {
    for (const block of message.message.content) {
      if (typeof block === 'object' && block.type === 'tool_result') log(`   ${block.is_error ? '⛔' : '✅'} ${typeof block.content === 'string' ? block.content.trim() || '(no output)' : JSON.stringify(block.content)}`);
    }
  }
}
