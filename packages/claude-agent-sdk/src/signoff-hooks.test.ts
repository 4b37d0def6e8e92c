import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createSignoff, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyFile, resultOf, startClaudeHarness, toolResults, type ClaudeHarness } from './__fixtures__/claude-harness.js';
import { callsAwaitingApproval } from './calls-awaiting-approval.js';
import { resumeWhenDecided } from './resume-when-decided.js';
import { approvalKey, signoffHooks, signoffOptions } from './signoff-hooks.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const resumeScript = fileURLToPath(new URL('./__fixtures__/resume-in-new-process.ts', import.meta.url));

let controlPlane: LocalControlPlane;
let signoff: Signoff;
let harness: ClaudeHarness;

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: policyFile, sweepIntervalSeconds: 0.1 });
  signoff = createSignoff({ policy: policyFile, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });
  harness = await startClaudeHarness();
});
afterAll(async () => {
  await harness?.close();
  await controlPlane?.close();
});

let counter = 0;
function pushCall(): { id: string; name: string; input: { command: string; description: string }; log: string } {
  const log = `pushes-${++counter}.log`;
  return { id: `toolu_push_${counter}`, name: 'Bash', input: { command: `echo "git push origin main" >> ${log}`, description: 'push' }, log };
}
function linesOf(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
async function collect(iterable: AsyncIterable<unknown>): Promise<import('@anthropic-ai/claude-agent-sdk').SDKMessage[]> {
  const messages = [];
  for await (const message of iterable) messages.push(message as import('@anthropic-ai/claude-agent-sdk').SDKMessage);
  return messages;
}

describe('signoffHooks with the real Claude Code CLI and a scripted API', () => {
  it('runs an allowed call', async () => {
    harness.fake.script([{ toolUses: [{ id: 'toolu_ok', name: 'Bash', input: { command: 'echo ok > allowed.txt', description: 'ok' } }] }]);
    const messages = await harness.run('go', { ...harness.baseOptions(), hooks: signoffHooks(signoff) });
    expect(readFileSync(join(harness.cwd, 'allowed.txt'), 'utf8')).toBe('ok\n');
    expect(toolResults(messages).get('toolu_ok')?.is_error).toBe(false);
    expect(resultOf(messages).stop_reason).toBe('end_turn');
  });

  it('denies a call the policy denies, with the reason the model reads; nothing runs', async () => {
    harness.fake.script([{ toolUses: [{ id: 'toolu_rm', name: 'Bash', input: { command: 'touch rm-ran.txt && rm -rf ./nothing', description: 'clean' } }] }]);
    const messages = await harness.run('go', { ...harness.baseOptions(), hooks: signoffHooks(signoff) });
    expect(existsSync(join(harness.cwd, 'rm-ran.txt'))).toBe(false);
    const result = toolResults(messages).get('toolu_rm');
    expect(result?.is_error).toBe(true);
    expect(String(result?.content)).toContain('rm -rf is never run by an agent');
    // The model's next request carries the reason.
    expect(JSON.stringify(harness.fake.requests.at(-1)?.body.messages)).toContain('rm -rf is never run by an agent');
  });

  it('defers an escalated call; once approved, a resume runs it once; a second resume runs nothing', async () => {
    const call = pushCall();
    harness.fake.script([{ toolUses: [call] }]);
    const options = { ...harness.baseOptions(), hooks: signoffHooks(signoff) };
    const first = resultOf(await harness.run('push it', options));
    expect(first.stop_reason).toBe('tool_deferred');
    expect(first.subtype === 'success' && first.deferred_tool_use).toMatchObject({ id: call.id, name: 'Bash', input: call.input });
    expect(callsAwaitingApproval(first, signoff)).toEqual([{ toolUseId: call.id, toolName: 'Bash', retry: false }]);
    expect(linesOf(join(harness.cwd, call.log))).toEqual([]);

    const [pending] = await controlPlane.actionable('lee');
    expect(pending).toMatchObject({ tool: 'Bash', args: call.input, status: 'pending', reason: `git push needs a human: ${call.input.command}` });

    // A forged resume (no decision yet) runs nothing: the hook defers again.
    harness.fake.script([]);
    const forged = await collect(resumeWhenDecided({ signoff, sessionId: first.session_id, toolUseId: call.id, options, timeoutMs: 200 })).catch((error: unknown) => error);
    expect(forged).toMatchObject({ code: 'APPROVAL_EXPIRED' });
    expect(linesOf(join(harness.cwd, call.log))).toEqual([]);

    await controlPlane.decide(pending!.id, 'lee', 'approve', { comment: 'ship it' });
    const resumed = await collect(resumeWhenDecided({ signoff, sessionId: first.session_id, toolUseId: call.id, options }));
    expect(linesOf(join(harness.cwd, call.log))).toEqual(['git push origin main']);
    expect(toolResults(resumed).get(call.id)?.is_error).toBe(false);
    expect(await signoff.getApproval(pending!.id)).toMatchObject({ status: 'executed' });

    const again = await collect(resumeWhenDecided({ signoff, sessionId: first.session_id, toolUseId: call.id, options })).catch((error: unknown) => error);
    expect(again).toMatchObject({ code: 'ALREADY_EXECUTED' });
    expect(linesOf(join(harness.cwd, call.log))).toEqual(['git push origin main']);
  });

  it('a denied escalation never runs; the resumed model reads the reviewer reason', async () => {
    const call = pushCall();
    harness.fake.script([{ toolUses: [call] }]);
    const options = { ...harness.baseOptions(), hooks: signoffHooks(signoff) };
    const first = resultOf(await harness.run('push it', options));
    expect(first.stop_reason).toBe('tool_deferred');
    const pending = (await controlPlane.actionable('lee')).find((request) => request.args && (request.args as { command?: string }).command === call.input.command);
    await controlPlane.decide(pending!.id, 'lee', 'deny', { comment: 'not on a Friday' });
    harness.fake.script([]);
    const resumed = await collect(resumeWhenDecided({ signoff, sessionId: first.session_id, toolUseId: call.id, options }));
    expect(linesOf(join(harness.cwd, call.log))).toEqual([]);
    const result = toolResults(resumed).get(call.id);
    expect(result?.is_error).toBe(true);
    expect(resultOf(resumed).stop_reason).toBe('end_turn');
  });

  it('runs the reviewer-edited input (updatedInput) for an escalated write outside the workspace', async () => {
    const target = join(harness.outside, 'notes.txt');
    const call = { id: 'toolu_write_out', name: 'Write', input: { file_path: target, content: 'from the model\n' } };
    harness.fake.script([{ toolUses: [call] }]);
    const options = { ...harness.baseOptions(), hooks: signoffHooks(signoff) };
    const first = resultOf(await harness.run('write it', options));
    expect(first.stop_reason).toBe('tool_deferred');
    const pending = (await controlPlane.actionable('lee')).find((request) => request.tool === 'Write');
    await controlPlane.decide(pending!.id, 'lee', 'approve', { args: { file_path: target, content: 'edited by a reviewer\n' } });
    harness.fake.script([]);
    await collect(resumeWhenDecided({ signoff, sessionId: first.session_id, toolUseId: call.id, options }));
    expect(readFileSync(target, 'utf8')).toBe('edited by a reviewer\n');
  });

  it("mode 'wait' waits in the hook and denies when no decision comes in time (never allows)", async () => {
    const call = pushCall();
    harness.fake.script([{ toolUses: [call] }]);
    const messages = await harness.run('push it', { ...harness.baseOptions(), hooks: signoffHooks(signoff, { mode: 'wait', waitMs: 300 }) });
    expect(linesOf(join(harness.cwd, call.log))).toEqual([]);
    expect(toolResults(messages).get(call.id)).toMatchObject({ is_error: true });
    expect(String(toolResults(messages).get(call.id)?.content)).toContain('APPROVAL_EXPIRED');
    expect(resultOf(messages).stop_reason).toBe('end_turn');
  });

  it("mode 'wait' runs the call once it is approved during the wait", async () => {
    const call = pushCall();
    harness.fake.script([{ toolUses: [call] }]);
    const approving = (async () => {
      for (;;) {
        const pending = (await controlPlane.actionable('lee')).find((request) => (request.args as { command?: string }).command === call.input.command);
        if (pending) return controlPlane.decide(pending.id, 'lee', 'approve');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const messages = await harness.run('push it', { ...harness.baseOptions(), hooks: signoffHooks(signoff, { mode: 'wait', waitMs: 20_000 }) });
    await approving;
    expect(linesOf(join(harness.cwd, call.log))).toEqual(['git push origin main']);
    expect(resultOf(messages).stop_reason).toBe('end_turn');
  });

  it('fails closed when the control plane is down: an escalated call is denied, allowed calls still run', async () => {
    const down = createSignoff({ policy: policyFile, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'sk_none' } });
    const call = pushCall();
    harness.fake.script([{ toolUses: [call, { id: 'toolu_ok2', name: 'Bash', input: { command: 'echo ok > ok2.txt', description: 'ok' } }] }]);
    const messages = await harness.run('push it', { ...harness.baseOptions(), hooks: signoffHooks(down) });
    expect(linesOf(join(harness.cwd, call.log))).toEqual([]);
    const result = toolResults(messages).get(call.id);
    expect(result?.is_error).toBe(true);
    expect(String(result?.content)).toContain('fail-closed');
    expect(existsSync(join(harness.cwd, 'ok2.txt'))).toBe(true);
    expect(resultOf(messages).stop_reason).toBe('end_turn');
  });

  it('a turn with two tool calls: the escalated one (whose defer Claude Code ignores) does not run before approval, runs once after, and a second resume runs nothing', async () => {
    const call = pushCall();
    harness.fake.script([{ streamFails: true, toolUses: [call, { id: 'toolu_ok3', name: 'Bash', input: { command: 'echo ok > ok3.txt', description: 'ok' } }] }]);
    // The app pre-allows Bash: Claude Code's own permission flow would run the push if the hook's answer were dropped.
    const options = { ...harness.baseOptions(), allowedTools: ['Bash'], ...signoffOptions(signoff, { permissionMode: 'default' }) };
    const first = await harness.run('push it', options);
    expect(linesOf(join(harness.cwd, call.log))).toEqual([]);
    expect(existsSync(join(harness.cwd, 'ok3.txt'))).toBe(true);
    const refused = toolResults(first).get(call.id);
    expect(refused?.is_error).toBe(true);
    expect(String(refused?.content)).toContain('still pending');
    // The model's next request carries the refusal, not the push's output.
    const sentBack = JSON.stringify(harness.fake.requests.at(-1)?.body.messages);
    expect(sentBack).toContain('still pending');
    const result = resultOf(first);
    expect(result.stop_reason).toBe('end_turn');
    expect(result.permission_denials.map((denial) => denial.tool_use_id)).toContain(call.id);
    expect(callsAwaitingApproval(result, signoff)).toEqual([{ toolUseId: call.id, toolName: 'Bash', retry: true }]);

    const pending = (await controlPlane.actionable('lee')).find((request) => (request.args as { command?: string }).command === call.input.command);
    expect(pending).toMatchObject({ status: 'pending', tool: 'Bash' });
    await controlPlane.decide(pending!.id, 'lee', 'approve');

    // Resumed, the model makes the same call again (a new tool use id); it runs once, under this approval.
    harness.fake.script([{ toolUses: [{ ...call, id: `${call.id}_again` }] }]);
    const resumed = await collect(resumeWhenDecided({ signoff, sessionId: result.session_id, toolUseId: call.id, options, retry: true }));
    expect(linesOf(join(harness.cwd, call.log))).toEqual(['git push origin main']);
    expect(toolResults(resumed).get(`${call.id}_again`)?.is_error).toBe(false);
    expect(await signoff.getApproval(pending!.id)).toMatchObject({ status: 'executed' });
    expect((await controlPlane.actionable('lee')).filter((request) => (request.args as { command?: string }).command === call.input.command)).toEqual([]);

    harness.fake.script([{ toolUses: [{ ...call, id: `${call.id}_third` }] }]);
    const again = await collect(resumeWhenDecided({ signoff, sessionId: result.session_id, toolUseId: call.id, options, retry: true })).catch((error: unknown) => error);
    expect(again).toMatchObject({ code: 'ALREADY_EXECUTED' });
    expect(linesOf(join(harness.cwd, call.log))).toEqual(['git push origin main']);
  });

  it('with the hooks alone (no canUseTool), an escalated call in a two-call turn is refused, not run', async () => {
    const call = pushCall();
    harness.fake.script([{ streamFails: true, toolUses: [call, { id: 'toolu_ok4', name: 'Bash', input: { command: 'echo ok > ok4.txt', description: 'ok' } }] }]);
    const messages = await harness.run('push it', { ...harness.baseOptions(), allowedTools: ['Bash'], hooks: signoffHooks(signoff) });
    expect(linesOf(join(harness.cwd, call.log))).toEqual([]);
    expect(toolResults(messages).get(call.id)?.is_error).toBe(true);
    expect(existsSync(join(harness.cwd, 'ok4.txt'))).toBe(true);
  });

  it('resumes in a new process: a fresh Node process with a new Signoff client runs the approved call once, with the approved input', async () => {
    const call = pushCall();
    harness.fake.script([{ toolUses: [call] }]);
    const serializable = harness.baseOptions(); // cwd, env (CLAUDE_CONFIG_DIR), model: what the new process needs besides the ids
    const first = resultOf(await harness.run('push it', { ...serializable, hooks: signoffHooks(signoff) }));
    expect(first.stop_reason).toBe('tool_deferred');
    const pending = (await controlPlane.actionable('lee')).find((request) => (request.args as { command?: string }).command === call.input.command);
    // The reviewer edits the input: the new process must run exactly the approved one.
    const approvedInput = { ...call.input, command: call.input.command.replace('git push origin main', 'git push origin main --follow-tags') };
    await controlPlane.decide(pending!.id, 'lee', 'approve', { args: approvedInput });

    harness.fake.script([]);
    const resumeInNewProcess = async (): Promise<{ toolResults?: Record<string, { content: unknown; is_error?: boolean }>; stopReason?: string | null; pid?: number; error?: string }> => {
      const input = { policyFile, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey }, sessionId: first.session_id, toolUseId: call.id, options: serializable };
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', resumeScript, JSON.stringify(input)], { cwd: packageDir, timeout: 60_000 });
      return JSON.parse(stdout) as { toolResults?: Record<string, { content: unknown; is_error?: boolean }>; stopReason?: string | null; pid?: number; error?: string };
    };
    const resumed = await resumeInNewProcess();
    expect(resumed.pid).not.toBe(process.pid);
    expect(resumed.toolResults?.[call.id]?.is_error).toBe(false);
    expect(resumed.stopReason).toBe('end_turn');
    expect(linesOf(join(harness.cwd, call.log))).toEqual(['git push origin main --follow-tags']);
    expect(await signoff.getApproval(pending!.id)).toMatchObject({ status: 'executed' });

    // Another new process resuming the same call runs nothing.
    expect(await resumeInNewProcess()).toEqual({ error: 'ALREADY_EXECUTED' });
    expect(linesOf(join(harness.cwd, call.log))).toEqual(['git push origin main --follow-tags']);
  });

  it('an expired request never runs: resuming runs nothing and the model reads the expiry reason', async () => {
    const log = `deploys-${++counter}.log`;
    const call = { id: `toolu_deploy_${counter}`, name: 'Bash', input: { command: `echo deploy-prod >> ${log}`, description: 'deploy' } };
    harness.fake.script([{ toolUses: [call] }]);
    const options = { ...harness.baseOptions(), ...signoffOptions(signoff, { permissionMode: 'default' }) };
    const first = resultOf(await harness.run('deploy', options));
    expect(first.stop_reason).toBe('tool_deferred');
    const request = await signoff.findApproval(approvalKey(first.session_id, call.id));
    expect(request).toMatchObject({ status: 'pending', tool: 'Bash' });
    // approval_timeout_minutes: 0.02 (1.2 s); the control plane's sweep expires it.
    let status = request!.status;
    for (let tries = 0; status === 'pending' && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await signoff.getApproval(request!.id)).status;
    }
    expect(status).toBe('expired');

    harness.fake.script([]);
    const resumed = await collect(resumeWhenDecided({ signoff, sessionId: first.session_id, toolUseId: call.id, options }));
    expect(linesOf(join(harness.cwd, log))).toEqual([]);
    const result = toolResults(resumed).get(call.id);
    expect(result?.is_error).toBe(true);
    // The control plane's expiry reason (the rule's timeout, then its timeout_action).
    const expiry = /No decision within 1 s; timeout_action deny refuses it/;
    expect(String(result?.content)).toMatch(expiry);
    // The model's next request carries it.
    expect(JSON.stringify(harness.fake.requests.at(-1)?.body.messages)).toMatch(expiry);
    expect(resultOf(resumed).stop_reason).toBe('end_turn');
    expect(await signoff.getApproval(request!.id)).toMatchObject({ status: 'expired' });
  });

  it('with a policy over more than one call, reports the call the hook allowed to the control plane, once', async () => {
    const historyPolicy = `
version: 1
default: deny
rules:
  - id: push-burst
    tool: Bash
    action: escalate
    when: { args.command: { contains: "git push" }, window: { within: 1h }, count: { gte: 3 } }
  - { id: rest, tool: "**", action: allow }
`;
    const historyPlane = await startLocalControlPlane({ policy: historyPolicy });
    try {
      const reporting = createSignoff({ policy: historyPolicy, controlPlane: { url: historyPlane.url, apiKey: historyPlane.agentKey } });
      harness.fake.script([{ toolUses: [{ id: 'toolu_reported', name: 'Bash', input: { command: 'echo counted > counted.txt', description: 'count' } }] }]);
      await harness.run('go', { ...harness.baseOptions(), ...signoffOptions(reporting, { permissionMode: 'default' }) });
      expect(readFileSync(join(harness.cwd, 'counted.txt'), 'utf8')).toBe('counted\n');
      await reporting.flushCalls();
      expect((await historyPlane.history!.list(0)).map(({ tool, action, args }) => [tool, action, (args as { command: string }).command])).toEqual([['Bash', 'allow', 'echo counted > counted.txt']]);
    } finally {
      await historyPlane.close();
    }
  });

  it("signoffOptions refuses permissionMode 'bypassPermissions' (canUseTool would never be asked)", () => {
    expect(() => signoffOptions(signoff, { permissionMode: 'bypassPermissions' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
