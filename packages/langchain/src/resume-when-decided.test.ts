import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { MemorySaver } from '@langchain/langgraph';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { createSignoff, SignoffError, type Signoff } from '@signoff/core';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPaymentsAgent, policyFile } from './__fixtures__/payments-agent.js';
import { resumeWhenDecided } from './resume-when-decided.js';
import { isSignoffInterrupt } from './signoff-interrupt.js';

let controlPlane: LocalControlPlane;
let directory: string;
const newSignoff = (): Signoff => createSignoff({ policy: policyFile, controlPlane: { url: controlPlane.url, apiKey: controlPlane.agentKey } });

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: policyFile });
  directory = mkdtempSync(join(tmpdir(), 'signoff-langchain-'));
});
afterAll(async () => {
  await controlPlane?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

describe('resumeWhenDecided', () => {
  it('resumes a paused run from a new agent instance after the process restarts (SQLite checkpointer)', async () => {
    const file = join(directory, 'checkpoints.db');
    const config = { configurable: { thread_id: randomUUID() } };

    // Process A: runs until the escalation pauses it, then goes away.
    const saverA = SqliteSaver.fromConnString(file);
    const before = createPaymentsAgent({ signoff: newSignoff(), calls: [{ name: 'send_payment', args: { to: 'acme', amount: 500 }, id: 'call_big' }], checkpointer: saverA });
    const paused = await before.agent.invoke({ messages: [{ role: 'user', content: 'Pay ACME $500' }] }, config);
    const approvalId = (paused.__interrupt__?.map((pause) => pause.value).find(isSignoffInterrupt))?.approvalId;
    expect(approvalId).toMatch(/^apr_/);
    saverA.db.close();

    await controlPlane.decide(approvalId!, 'ana', 'approve');

    // Process B: a new agent, saver and client on the same file; its model has no tool calls left to make.
    const saverB = SqliteSaver.fromConnString(file);
    const after = createPaymentsAgent({ signoff: newSignoff(), calls: [], checkpointer: saverB });
    const result = await resumeWhenDecided(after.agent, config);
    saverB.db.close();

    expect(before.ran).toEqual([]);
    expect(after.ran).toEqual([{ tool: 'send_payment', to: 'acme', amount: 500 }]);
    expect(result.messages.filter((message) => ToolMessage.isInstance(message)).map((message) => message.content)).toEqual(['send_payment: 500 to acme done']);
    expect(result.messages.at(-1)?.content).toBe('Done.');
    expect(result.__interrupt__).toBeUndefined();
  });

  it('throws APPROVAL_EXPIRED when its own timeout passes first, leaving the thread paused', async () => {
    const config = { configurable: { thread_id: randomUUID() } };
    const { agent, ran } = createPaymentsAgent({ signoff: newSignoff(), calls: [{ name: 'send_payment', args: { to: 'acme', amount: 500 }, id: 'call_big' }], checkpointer: new MemorySaver() });
    await agent.invoke({ messages: [{ role: 'user', content: 'Pay' }] }, config);

    const error = await resumeWhenDecided(agent, config, { timeoutMs: 1000 }).catch((caught: unknown) => caught);
    expect(SignoffError.isInstance(error) && error.code).toBe('APPROVAL_EXPIRED');
    expect(ran).toEqual([]);
    const state = await agent.graph.getState(config);
    expect(state.tasks.flatMap((task) => task.interrupts).filter((pause) => isSignoffInterrupt(pause.value))).toHaveLength(1);
  });

  it('returns the current values when nothing waits for Signoff', async () => {
    const config = { configurable: { thread_id: randomUUID() } };
    const { agent } = createPaymentsAgent({ signoff: newSignoff(), calls: [{ name: 'send_payment', args: { to: 'acme', amount: 10 }, id: 'call_small' }], checkpointer: new MemorySaver() });
    const finished = await agent.invoke({ messages: [{ role: 'user', content: 'Pay' }] }, config);
    const result = await resumeWhenDecided(agent, config);
    expect(result.messages).toHaveLength(finished.messages.length);
  });
});

function toolMessages(messages: readonly BaseMessage[]): ToolMessage[] {
  return messages.filter((message): message is ToolMessage => ToolMessage.isInstance(message));
}

const bigPayment = [{ name: 'send_payment', args: { to: 'acme', amount: 500 }, id: 'call_big' }];

/** Runs an agent until the payment pauses; returns the approval id and the paused checkpoint's id. */
async function pauseOnPayment(file: string, config: { configurable: { thread_id: string } }, gated: boolean) {
  const saver = SqliteSaver.fromConnString(file);
  const { agent, ran } = createPaymentsAgent({ signoff: newSignoff(), calls: bigPayment, checkpointer: saver, gated });
  const paused = await agent.invoke({ messages: [{ role: 'user', content: 'Pay ACME $500' }] }, config);
  const approvalId = paused.__interrupt__?.map((pause) => pause.value).find(isSignoffInterrupt)?.approvalId;
  const checkpointId = (await agent.graph.getState(config)).config.configurable?.checkpoint_id as string;
  saver.db.close(); // the process that started the run goes away
  expect(ran).toEqual([]);
  return { approvalId: approvalId!, checkpointId };
}

describe.each([
  { setup: 'plain tools: the middleware claims', gated: false },
  { setup: 'wrapTool-gated tools: the tool claims', gated: true },
])('an approval runs its call once ($setup)', ({ gated }) => {
  it('replayed resumes of the same saved state run the payment once, also from a restarted process; each later one is told it was already used', async () => {
    const file = join(directory, `${randomUUID()}.db`);
    const config = { configurable: { thread_id: randomUUID() } };
    const { approvalId, checkpointId } = await pauseOnPayment(file, config, gated);
    const copy = join(directory, `${randomUUID()}-copy.db`);
    copyFileSync(file, copy); // the saved state, e.g. a backup or a second worker's copy
    await controlPlane.decide(approvalId, 'ana', 'approve', { args: { to: 'acme', amount: 450 } });

    // A new process resumes: the edited payment runs.
    const saver = SqliteSaver.fromConnString(file);
    const resumer = createPaymentsAgent({ signoff: newSignoff(), calls: [], checkpointer: saver, gated });
    const first = await resumeWhenDecided(resumer.agent, config);
    expect(resumer.ran).toEqual([{ tool: 'send_payment', to: 'acme', amount: 450 }]);
    expect(toolMessages(first.messages).map((message) => message.content)).toEqual(['send_payment: 450 to acme done']);

    // The same saved state resumed again: the paused checkpoint (an at-least-once webhook delivered twice)…
    const replayed = await resumeWhenDecided(resumer.agent, { configurable: { ...config.configurable, checkpoint_id: checkpointId } });
    saver.db.close();
    // …and a copy of it, in yet another process with a fresh client and agent.
    const copySaver = SqliteSaver.fromConnString(copy);
    const restarted = createPaymentsAgent({ signoff: newSignoff(), calls: [], checkpointer: copySaver, gated });
    const fromCopy = await resumeWhenDecided(restarted.agent, config);
    copySaver.db.close();

    expect(resumer.ran).toHaveLength(1);
    expect(restarted.ran).toEqual([]);
    for (const result of [replayed, fromCopy]) {
      const [message, ...others] = toolMessages(result.messages);
      expect(others).toEqual([]);
      expect(message).toMatchObject({ status: 'error', tool_call_id: 'call_big' });
      expect(message?.content).toMatch(new RegExp(`^approval ${approvalId} was already used at \\d{4}-\\d\\d-\\d\\dT.*; an approval runs its call once$`));
    }
    expect(await newSignoff().getApproval(approvalId)).toMatchObject({ status: 'executed', execution: { claimedBy: 'agent', outcome: 'succeeded' } });
  });

  it.each([
    { checkpointers: 'one agent and one SQLite checkpointer', agents: 1 },
    { checkpointers: 'two agents (two processes) on one SQLite file', agents: 2 },
  ])('two resumeWhenDecided calls at the same moment on the same thread run the payment once ($checkpointers)', async ({ agents }) => {
    const file = join(directory, `${randomUUID()}.db`);
    const config = { configurable: { thread_id: randomUUID() } };
    const { approvalId } = await pauseOnPayment(file, config, gated);
    await controlPlane.decide(approvalId, 'ana', 'approve');

    const savers = Array.from({ length: agents }, () => SqliteSaver.fromConnString(file));
    const resumers = savers.map((saver) => createPaymentsAgent({ signoff: newSignoff(), calls: [], checkpointer: saver, gated }));
    const [a, b] = [resumers[0]!, resumers[agents - 1]!];
    const results = await Promise.all([resumeWhenDecided(a.agent, config), resumeWhenDecided(b.agent, config)]);
    for (const saver of savers) saver.db.close();

    expect(resumers.flatMap((resumer) => resumer.ran)).toEqual([{ tool: 'send_payment', to: 'acme', amount: 500 }]);
    const contents = results.map((result) => toolMessages(result.messages).map((message) => message.content)).sort();
    expect(contents).toEqual([[expect.stringMatching(/^Not run: .*already used at .*; an approval runs its call once$|^approval apr_\S+ was already used at .*; an approval runs its call once$/)], ['send_payment: 500 to acme done']].sort());
  });
});
