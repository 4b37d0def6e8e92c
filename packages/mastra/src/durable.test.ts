import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibSQLStore } from '@mastra/libsql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resumeWithSignoff } from './resume-with-signoff.js';
import { callId, connect, eventuallyPending, lastToolResults, mastraUnsupportedNode, payAcme, startPayer, startWorld, type World } from './__fixtures__/payments.js';

describe.skipIf(mastraUnsupportedNode)('durable: LibSQL storage, suspend in one process and resume in another', () => {
  let world: World;
  let directory: string;
  beforeAll(async () => {
    world = await startWorld();
    directory = mkdtempSync(join(tmpdir(), 'signoff-mastra-'));
  });
  afterAll(async () => {
    await world?.controlPlane.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /** A new agent process: its own Mastra, LibSQL store on the same file, and Signoff client. */
  const agentProcess = (file: string, turns: Parameters<typeof startPayer>[1]) => {
    const signoff = connect(world.controlPlane);
    return { signoff, ...startPayer(signoff, turns, { storage: new LibSQLStore({ id: 'signoff-test', url: `file:${file}` }) }) };
  };

  test('restart between suspend and resume: the new process resumes that call and it runs once', async () => {
    const file = join(directory, 'restart.db');
    const id = callId('restart');
    const first = agentProcess(file, [payAcme(id)]);
    const suspended = await first.agent.generate('Pay acme $500');
    expect(suspended.finishReason).toBe('suspended');
    // Process one files the request and stops.
    const filed = await resumeWithSignoff(first.agent, first.signoff, { runId: suspended.runId!, wait: false });
    expect(filed.status).toBe('pending');

    const second = agentProcess(file, [{ text: 'paid' }]);
    const resuming = resumeWithSignoff(second.agent, second.signoff, { runId: suspended.runId! });
    const request = await eventuallyPending(world.controlPlane, `mastra:${suspended.runId}:${id}`);
    expect(request.id).toBe(filed.status === 'pending' ? filed.approval.id : undefined);
    await world.controlPlane.decide(request.id, 'ana', 'approve');

    expect((await resuming).status).toBe('approved');
    expect(first.executed).toEqual([]);
    expect(second.executed).toEqual([{ tool: 'payment_send', input: { to: 'acme', amount: 500 } }]);
  });

  test('a copied snapshot resumed again after the call ran runs nothing (the approval is single-use)', async () => {
    const file = join(directory, 'replay.db');
    const id = callId('replay');
    const first = agentProcess(file, [payAcme(id), { text: 'paid' }]);
    const suspended = await first.agent.generate('Pay acme $500');
    copyDatabase(file, `${file}.copy`);
    copyDatabase(file, `${file}.copy2`);

    const resuming = resumeWithSignoff(first.agent, first.signoff, { runId: suspended.runId! });
    await world.controlPlane.decide((await eventuallyPending(world.controlPlane, `mastra:${suspended.runId}:${id}`)).id, 'ana', 'approve');
    expect((await resuming).status).toBe('approved');
    expect(first.executed).toHaveLength(1);

    // Someone restores the stored snapshot and resumes it: through the helper, then directly.
    const replayed = agentProcess(`${file}.copy`, [{ text: 'again' }]);
    expect(await resumeWithSignoff(replayed.agent, replayed.signoff, { runId: suspended.runId! })).toMatchObject({ status: 'declined' });
    expect(replayed.executed).toEqual([]);
    const direct = agentProcess(`${file}.copy2`, [{ text: 'again' }]);
    await direct.agent.approveToolCallGenerate({ runId: suspended.runId!, toolCallId: id });
    expect(direct.executed).toEqual([]);
    expect(JSON.stringify(lastToolResults(direct.model.prompts)[id])).toContain('already used');
  });
});

/** Copies a SQLite database with its WAL files, as a backup tool or a copied volume would. */
function copyDatabase(from: string, to: string): void {
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
}
