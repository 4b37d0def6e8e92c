import { describe, expect, it } from 'vitest';
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
});
