import { describe, expect, it, vi } from 'vitest';
import { SignoffError } from '../errors/signoff-error.js';
import { createGuard } from '../guard/create-guard.js';
import { createCallReporter, type ReportedCall } from './call-reporter.js';

const guard = createGuard('rules: [{ tool: "**", action: allow }]');

describe('createCallReporter', () => {
  it('sends a batch when it fills, and the rest on flush, each call once', async () => {
    const sent: ReportedCall[][] = [];
    const reporter = createCallReporter(async (calls) => void sent.push([...calls]), { batchSize: 3, intervalMs: 60_000 });
    for (let index = 0; index < 4; index += 1) reporter.add(guard('t', { index }, { user: 'u' }));
    await reporter.flush();
    expect(sent.map((batch) => batch.map((call) => (call.args as { index: number }).index))).toEqual([[0, 1, 2], [3]]);
    expect(sent[0]?.[0]).toMatchObject({ tool: 't', context: { user: 'u' } });
    expect(new Set(sent.flat().map((call) => call.id)).size).toBe(4);
    expect(reporter.pending()).toBe(0);
  });

  it('keeps a batch that failed and sends it, in order, with the next attempt', async () => {
    let failing = true;
    const sent: number[][] = [];
    const reporter = createCallReporter(
      async (calls) => {
        if (failing) throw new Error('control plane down');
        sent.push(calls.map((call) => (call.args as { index: number }).index));
      },
      { intervalMs: 60_000 },
    );
    reporter.add(guard('t', { index: 1 }));
    await reporter.flush();
    expect(reporter.pending()).toBe(1);
    reporter.add(guard('t', { index: 2 }));
    failing = false;
    await reporter.flush();
    expect(sent).toEqual([[1, 2]]);
  });

  it('drops the oldest calls beyond maxQueued while it cannot send', async () => {
    const reporter = createCallReporter(async () => Promise.reject(new Error('down')), { maxQueued: 2, batchSize: 100, intervalMs: 60_000 });
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      for (let index = 0; index < 3; index += 1) reporter.add(guard('t', { index }));
      await reporter.flush();
    } finally {
      console.warn = warn;
    }
    expect(reporter.pending()).toBe(2);
  });

  it('reports a call under the id the caller names, so one tool call guarded twice has one id; ids the API would refuse go as their hash', async () => {
    const sent: ReportedCall[] = [];
    const reporter = createCallReporter(async (calls) => void sent.push(...calls), { intervalMs: 60_000 });
    reporter.add(guard('t', {}), 'thread-1:call_abc');
    reporter.add(guard('t', {}), 'thread-1:call_abc');
    reporter.add(guard('t', {}), 'call 1 / ü');
    reporter.add(guard('t', {}), 'call 1 / ü');
    reporter.add(guard('t', {}));
    await reporter.flush();
    const ids = sent.map((call) => call.id);
    expect(ids.slice(0, 2)).toEqual(['thread-1:call_abc', 'thread-1:call_abc']);
    expect(ids[2]).toMatch(/^h_[0-9a-f]{48}$/);
    expect(ids[3]).toBe(ids[2]);
    expect(new Set(ids).size).toBe(3);
  });

  it('splits a batch the control plane refuses as too large, and drops only a call that is too large alone', async () => {
    const sent: number[] = [];
    const tooLarge = (calls: readonly ReportedCall[]) => JSON.stringify(calls).length > 2_000;
    const reporter = createCallReporter(
      async (calls) => {
        if (tooLarge(calls)) throw new SignoffError('CONTROL_PLANE_REJECTED', 'control plane refused POST /v1/calls (413 BODY_TOO_LARGE): request body exceeds 2000 bytes');
        sent.push(...calls.map((call) => (call.args as { index: number }).index));
      },
      { intervalMs: 60_000, batchSize: 500 },
    );
    for (let index = 0; index < 40; index += 1) reporter.add(guard('t', { index, note: 'x'.repeat(index === 7 ? 3_000 : 100) }));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    let warnings: number;
    try {
      await reporter.flush();
      warnings = warn.mock.calls.length;
    } finally {
      warn.mockRestore();
    }
    expect(sent).toEqual(Array.from({ length: 40 }, (_, index) => index).filter((index) => index !== 7));
    expect(reporter.pending()).toBe(0);
    expect(warnings).toBe(1);
  });

  it('keeps a batch the control plane could not take now (unavailable), unsplit', async () => {
    const batches: number[] = [];
    let down = true;
    const reporter = createCallReporter(
      async (calls) => {
        if (down) throw new SignoffError('CONTROL_PLANE_UNAVAILABLE', 'control plane unavailable after 3 attempts');
        batches.push(calls.length);
      },
      { intervalMs: 60_000 },
    );
    for (let index = 0; index < 10; index += 1) reporter.add(guard('t', { index }));
    await reporter.flush();
    expect(reporter.pending()).toBe(10);
    down = false;
    await reporter.flush();
    expect(batches).toEqual([10]);
  });
});

