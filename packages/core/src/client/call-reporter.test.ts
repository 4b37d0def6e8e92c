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
});
