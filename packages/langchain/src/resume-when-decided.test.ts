import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolMessage } from '@langchain/core/messages';
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
