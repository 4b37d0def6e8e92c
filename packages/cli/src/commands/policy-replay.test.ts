import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteCallHistory } from '@signoff/server';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-replay-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const T0 = Date.parse('2026-12-07T12:00:00Z');
const MINUTE = 60_000;

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

describe('signoff policy replay', () => {
  it('prints which recorded decisions a candidate policy would flip, with counts and examples', async () => {
    const database = join(directory, 'signoff.db');
    const history = openSqliteCallHistory(database);
    // What an old policy (every payment allowed, refunds denied over 500) decided.
    const pay = (minute: number, amount: number) => ({
      call: { id: `p${minute}`, at: T0 + minute * MINUTE, tool: 'payment_send', args: { to: 'acme', amount }, context: { agent: 'bot' }, action: 'allow' as const, ruleId: 'payments', requester: 'agent' },
      keys: [],
    });
    await history.record([pay(0, 600), pay(1, 300), pay(2, 200), pay(3, 50), pay(90, 700)]);
    await history.record([{ call: { id: 'r1', at: T0 + 5 * MINUTE, tool: 'refund_create', args: { amount: 900 }, context: { user: 'u1' }, action: 'deny', ruleId: 'big-refunds', requester: 'agent' }, keys: [] }]);
    await history.close();

    const candidate = join(directory, 'candidate.yaml');
    writeFileSync(
      candidate,
      [
        'version: 1',
        'default: deny',
        'rules:',
        '  - id: split-payments',
        '    tool: payment_send',
        '    action: escalate',
        '    when: { window: { within: 1h, per: [context.agent, args.to] }, sum(args.amount): { gt: 1000 } }',
        '  - { id: payments, tool: payment_send, action: allow }',
        '  - { id: refunds, tool: refund_create, action: escalate }',
      ].join('\n'),
    );
    const { code, out } = await run('policy', 'replay', candidate, '--store', `sqlite:${database}`);
    expect(code).toBe(0);
    expect(out.slice(1)).toEqual([
      '3 unchanged, 3 would flip:',
      '  allow → escalate: 2', // 600 + 300 + 200 passes 1000, and so does the 50 after it; the 700 ninety minutes later does not
      `    2026-12-07T12:02:00.000Z payment_send {"to":"acme","amount":200} by agent: rule 'payments' → rule 'split-payments'`,
      `    2026-12-07T12:03:00.000Z payment_send {"to":"acme","amount":50} by agent: rule 'payments' → rule 'split-payments'`,
      '  deny → escalate: 1',
      `    2026-12-07T12:05:00.000Z refund_create {"amount":900} by agent: rule 'big-refunds' → rule 'refunds'`,
    ]);
    expect(out[0]).toMatch(/^Replayed 6 recorded calls against .*candidate\.yaml \(policy [0-9a-f]{12}\)\.$/);

    const json = JSON.parse((await run('policy', 'replay', candidate, '--store', `sqlite:${database}`, '--json')).out.join('\n'));
    expect(json).toMatchObject({ calls: 6, unchanged: 3, flips: [{ from: 'allow', to: 'escalate', count: 2 }, { from: 'deny', to: 'escalate', count: 1 }] });
  });

  it('says why a history is empty: calls are recorded only under history conditions or shadow rules', async () => {
    const database = join(directory, 'empty.db');
    await openSqliteCallHistory(database).close();
    const candidate = join(directory, 'candidate-empty.yaml');
    writeFileSync(candidate, 'rules: [{ tool: a, action: allow }]\n');
    const { code, out } = await run('policy', 'replay', candidate, '--store', `sqlite:${database}`);
    expect(code).toBe(0);
    expect(out.slice(1)).toEqual(['0 unchanged, 0 would flip.', expect.stringContaining('records calls only while its policy has history conditions')]);
  });

  it('refuses a store where nothing was recorded, and a bad --since', async () => {
    const candidate = join(directory, 'plain.yaml');
    writeFileSync(candidate, 'rules: [{ tool: a, action: allow }]\n');
    expect(await run('policy', 'replay', candidate, '--store', `sqlite:${join(directory, 'missing.db')}`)).toMatchObject({ code: 1 });
    expect(await run('policy', 'replay', candidate, '--since', 'yesterday')).toMatchObject({ code: 2 });
  });
});
