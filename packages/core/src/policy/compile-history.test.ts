import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '../errors/policy-error.js';
import { createGuard } from '../guard/create-guard.js';
import type { RecordedCall } from '../spec/recorded-call.js';
import { compilePolicy } from './compile-policy.js';
import { explainDecision } from './explain-decision.js';
import { gatherHistoryFacts } from './gather-history-facts.js';
import { createMemoryHistory } from './memory-history.js';
import { parsePolicy } from './parse-policy.js';

const HISTORY_POLICY = readFileSync(new URL('../__fixtures__/history.policy.yaml', import.meta.url), 'utf8');
const policy = parsePolicy(HISTORY_POLICY, { file: 'history.policy.yaml' });
const compiled = compilePolicy(policy);
const MINUTE = 60_000;
const T0 = Date.parse('2026-12-07T12:00:00Z');

function issues(text: string): string[] {
  try {
    parsePolicy(text, { file: 'p.yaml' });
  } catch (error) {
    if (PolicyError.isInstance(error)) return error.issues.map((issue) => `${issue.line}:${issue.column} ${issue.message}`);
    throw error;
  }
  throw new Error('expected the policy to be rejected');
}

/** Decides a sequence of calls the way the control plane does: facts from the history so far, then record the call. */
async function decideInOrder(calls: readonly { at: number; tool: string; args: unknown; context?: Record<string, unknown> }[]) {
  const history = createMemoryHistory(compiled);
  const decided: string[] = [];
  for (const [index, call] of calls.entries()) {
    const facts = await gatherHistoryFacts(compiled, call, history, call.at);
    const match = compiled.evaluateWithHistory(call.tool, call.args, call.context, facts);
    const explained = explainDecision(policy, call, { facts });
    expect({ action: explained.action, ruleId: explained.ruleId }).toEqual({ action: match.action, ruleId: match.ruleId });
    decided.push(`${match.action}:${match.ruleId}`);
    history.record({ id: `c${index}`, at: call.at, tool: call.tool, args: call.args, context: call.context, action: match.action, ruleId: match.ruleId } satisfies RecordedCall);
  }
  return decided;
}

describe('history conditions: the language', () => {
  it('normalizes window aggregates and after: into their own condition kinds', () => {
    const split = policy.rules.find((rule) => rule.id === 'split-payments');
    expect(split?.condition).toEqual({
      kind: 'aggregate',
      aggregate: 'sum',
      path: 'args.amount',
      window: { withinMs: 3_600_000, per: ['context.agent', 'args.to'] },
      tests: [{ operator: 'gt', operand: 1000 }],
    });
    const exfiltration = policy.rules.find((rule) => rule.id === 'exfiltration');
    expect(exfiltration?.condition).toMatchObject({
      kind: 'all',
      conditions: [{ kind: 'after', tools: ['inbox_read'], window: { withinMs: 600_000, per: ['context.agent'] } }, { kind: 'not' }],
    });
    expect(policy.rules.find((rule) => rule.id === 'big-refund-watch')?.mode).toBe('shadow');
    expect(policy.rules.find((rule) => rule.id === 'refunds')).not.toHaveProperty('mode');
  });

  it('keeps the hash of a policy without history conditions or shadow rules', () => {
    const plain = 'rules: [{ tool: a, action: allow }]';
    expect(parsePolicy(plain).hash).toBe(parsePolicy('mode: enforce\nrules: [{ tool: a, action: allow, mode: enforce }]').hash);
  });

  it('mode: shadow on the policy makes every rule a shadow rule unless it says enforce', () => {
    const shadowed = parsePolicy('mode: shadow\nrules: [{ id: a, tool: a, action: deny }, { id: b, tool: b, action: deny, mode: enforce }]');
    expect(shadowed.rules.map((rule) => rule.mode ?? 'enforce')).toEqual(['shadow', 'enforce']);
  });

  it.each([
    ['a bad duration', 'rules: [{ tool: a, action: deny, when: { window: { within: 1 hour }, count: { gt: 1 } } }]', '1:60 expected a duration like 30s, 10m, 1h or 7d, got "1 hour"'],
    ['a zero duration', 'rules: [{ tool: a, action: deny, when: { window: { within: 0s }, count: { gt: 1 } } }]', '1:60 expected a duration longer than 0'],
    ['an unknown aggregate', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h }, avg(args.x): { gt: 1 } } }]', "1:66 unknown aggregate 'avg(args.x)': expected count, sum(path), min(path) or max(path)"],
    ['count with a path', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h }, count(args.x): { gt: 1 } } }]', "1:66 unknown aggregate 'count(args.x)': expected count, sum(path), min(path) or max(path) (count takes no path: write 'count')"],
    ['a bad aggregate path', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h }, sum(amount): { gt: 1 } } }]', "1:66 unknown path 'amount' in sum(…): expected a path starting with 'args.' or 'context.', like args.amount"],
    ['a bad per path', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h, per: [agent] }, count: { gt: 1 } } }]', "1:70 expected a path starting with 'args.' or 'context.', like context.agent"],
    ['an aggregate without a window', 'rules: [{ tool: a, action: deny, when: { count: { gt: 1 } } }]', '1:42 count needs a window in the same condition map, e.g. window: { within: 1h, per: [context.agent] }'],
    ['a window without an aggregate', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h } } }]', '1:42 a window needs an aggregate beside it, e.g. count: { gte: 3 } or sum(args.amount): { gt: 1000 }'],
    ['a non-numeric comparison', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h }, count: { gt: "3" } } }]', '1:79 expected a number, got "3"'],
    ['a string operator on an aggregate', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h }, count: { ends_with: x } } }]', "1:75 unknown aggregate operator 'ends_with'; expected one of: eq, ne, gt, gte, lt, lte"],
    ['an unknown window key', 'rules: [{ tool: a, action: deny, when: { window: { within: 1h, by: [context.a] }, count: { gt: 1 } } }]', "1:64 unknown window key 'by'; expected one of: within, per"],
    ['a bad glob in after', 'rules: [{ tool: a, action: deny, when: { after: { tool: "inbox.{read}", within: 10m } } }]', "1:57 'inbox.{read}' has braces with a single alternative; write '{a,b}' or drop the braces"],
    ['not_after without within', 'rules: [{ tool: a, action: deny, when: { not_after: { tool: b } } }]', "1:53 missing required key 'within': expected a duration like 30s, 10m, 1h or 7d"],
    ['an unknown not_after key', 'rules: [{ tool: a, action: deny, when: { not_after: { tool: b, within: 1h, since: 2h } } }]', "1:76 unknown after key 'since'; expected one of: tool, within, per"],
    ['after without within', 'rules: [{ tool: a, action: deny, when: { after: { tool: b } } }]', "1:49 missing required key 'within': expected a duration like 30s, 10m, 1h or 7d"],
    ['a bad mode', 'rules: [{ tool: a, action: deny, mode: dry-run }]', '1:40 expected enforce or shadow, got "dry-run"'],
  ])('rejects %s with line and column', (_name, text, expected) => {
    expect(issues(text)).toEqual([expected]);
  });
});

describe('history conditions: the agent-side guard', () => {
  const guard = createGuard(policy);

  it('decides rules before a history rule alone, synchronously', () => {
    expect(guard('payment_send', { to: 'acme', amount: 5 }, { agent: 'bot' })).toMatchObject({ action: 'allow', ruleId: 'small-payments' });
    expect(guard('payment_send', { to: 'acme', amount: 5 }, { agent: 'bot' })).not.toHaveProperty('needsHistory');
  });

  it('marks a call that reaches a history rule as needing the control plane (escalate, needsHistory)', () => {
    const decision = guard('payment_send', { to: 'acme', amount: 50 }, { agent: 'bot' });
    expect(decision).toMatchObject({ action: 'escalate', ruleId: 'split-payments', needsHistory: true, unknownPath: 'sum(args.amount)' });
    expect(decision.reason).toBe("Rule 'split-payments' depends on the call history (sum(args.amount)): the control plane decides");
  });

  it('does not ask for history when the rest of the condition already rules the rule out', () => {
    // exfiltration needs an outside address as well: to @acme.com it is false without any history.
    expect(guard('send_email', { to: 'cfo@acme.com' }, { agent: 'bot' })).toMatchObject({ action: 'allow', ruleId: 'email' });
    expect(guard('send_email', { to: 'x@gmail.com' }, { agent: 'bot' })).toMatchObject({ action: 'escalate', needsHistory: true, ruleId: 'exfiltration' });
  });

  it('never lets a shadow rule decide', () => {
    expect(guard('refund_create', { amount: 900 }, { user: 'u1' })).toMatchObject({ action: 'escalate', ruleId: 'refund-burst', needsHistory: true });
    expect(guard('inbox_read', {}, { agent: 'bot' })).toMatchObject({ action: 'allow', ruleId: 'inbox' });
  });
});

describe('history conditions: deciding with the history (control plane side)', () => {
  it('split payments: escalates the payment that takes the sum per agent and payee over 1000, this call included', async () => {
    const pay = (minute: number, to: string, amount: number, agent = 'bot') => ({ at: T0 + minute * MINUTE, tool: 'payment_send', args: { to, amount }, context: { agent } });
    expect(
      await decideInOrder([pay(0, 'acme', 400), pay(1, 'acme', 400), pay(2, 'other', 400), pay(3, 'acme', 100, 'bot-2'), pay(4, 'acme', 201), pay(65, 'acme', 300)]),
    ).toEqual(['allow:payments', 'allow:payments', 'allow:payments', 'allow:payments', 'escalate:split-payments', 'allow:payments']);
  });

  it('refund burst: the third refund for a user within the hour escalates', async () => {
    const refund = (minute: number, user: string) => ({ at: T0 + minute * MINUTE, tool: 'refund_create', args: { amount: 20 }, context: { user } });
    expect(await decideInOrder([refund(0, 'u1'), refund(5, 'u1'), refund(6, 'u2'), refund(10, 'u1'), refund(70, 'u1')])).toEqual([
      'allow:refunds',
      'allow:refunds',
      'allow:refunds',
      'escalate:refund-burst',
      'allow:refunds', // the first two are out of the window; the third escalated one counts: 2 in the window
    ]);
  });

  it('exfiltration: an outside email within 10 minutes of reading the inbox (same agent) escalates', async () => {
    const read = (minute: number, agent: string) => ({ at: T0 + minute * MINUTE, tool: 'inbox_read', args: {}, context: { agent } });
    const mail = (minute: number, agent: string, to: string) => ({ at: T0 + minute * MINUTE, tool: 'send_email', args: { to }, context: { agent } });
    expect(await decideInOrder([mail(0, 'a', 'x@gmail.com'), read(1, 'a'), mail(2, 'b', 'x@gmail.com'), mail(3, 'a', 'boss@acme.com'), mail(4, 'a', 'x@gmail.com'), mail(12, 'a', 'x@gmail.com')])).toEqual([
      'allow:email',
      'allow:inbox',
      'allow:email',
      'allow:email',
      'escalate:exfiltration',
      'allow:email',
    ]);
  });

  it('fails closed when the history cannot be read: deny/escalate rules apply, allow rules do not', async () => {
    const broken = { read: async () => Promise.reject(new Error('database down')) };
    const call = { tool: 'payment_send', args: { to: 'acme', amount: 50 }, context: { agent: 'bot' } };
    const facts = await gatherHistoryFacts(compiled, call, broken, T0);
    expect(compiled.evaluateWithHistory(call.tool, call.args, call.context, facts)).toMatchObject({ action: 'escalate', ruleId: 'split-payments', unknownPath: 'sum(args.amount)' });
    expect(compiled.evaluateWithHistory(call.tool, call.args, call.context, facts)).not.toHaveProperty('needsHistory');

    const allowWhenQuiet = compilePolicy(parsePolicy('default: deny\nrules: [{ id: quiet, tool: t, action: allow, when: { window: { within: 1m }, count: { lte: 5 } } }]'));
    const quietFacts = await gatherHistoryFacts(allowWhenQuiet, { tool: 't', args: {} }, broken, T0);
    expect(allowWhenQuiet.evaluateWithHistory('t', {}, undefined, quietFacts)).toMatchObject({ action: 'deny', ruleId: null, unknownPath: 'count' });
  });

  it('treats a missing per value or an amount that is not a number as unknown (fail-closed)', async () => {
    expect(await decideInOrder([{ at: T0, tool: 'payment_send', args: { to: 'acme', amount: 50 }, context: {} }])).toEqual(['escalate:split-payments']);
    expect(await decideInOrder([{ at: T0, tool: 'payment_send', args: { to: 'acme', amount: 'lots' }, context: { agent: 'a' } }])).toEqual(['escalate:split-payments']);
  });

  it('does not count calls the policy denied (they never ran)', async () => {
    const history = createMemoryHistory(compiled);
    for (const index of [1, 2, 3]) history.record({ id: `d${index}`, at: T0, tool: 'refund_create', args: {}, context: { user: 'u1' }, action: 'deny', ruleId: 'x' });
    const call = { tool: 'refund_create', args: { amount: 1 }, context: { user: 'u1' } };
    const facts = await gatherHistoryFacts(compiled, call, history, T0 + 1);
    expect(compiled.evaluateWithHistory(call.tool, call.args, call.context, facts)).toMatchObject({ action: 'allow', ruleId: 'refunds' });
  });

  it('evaluates shadow rules only in the shadow view', async () => {
    const call = { tool: 'refund_create', args: { amount: 900 }, context: { user: 'u9' } };
    const facts = await gatherHistoryFacts(compiled, call, createMemoryHistory(compiled), T0);
    expect(compiled.evaluateWithHistory(call.tool, call.args, call.context, facts)).toMatchObject({ action: 'allow', ruleId: 'refunds' });
    expect(compiled.shadow?.evaluateWithHistory(call.tool, call.args, call.context, facts)).toMatchObject({ action: 'deny', ruleId: 'big-refund-watch' });
    expect(compiled.recordsCalls).toBe(true);
    expect(compilePolicy(parsePolicy('rules: [{ tool: a, action: allow }]'))).toMatchObject({ recordsCalls: false, shadow: null, historyConditions: [] });
  });
});

describe('the README example', () => {
  it('loads as written and decides as the README says', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('**Rules that look at more than one call.**'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] as string;
    const example = parsePolicy(`version: 1\ndefault: allow\n${yaml}`);
    expect(example.rules.map((rule) => rule.id)).toEqual(['split-payments', 'refund-burst', 'exfiltration']);
    const guard = createGuard(example);
    expect(guard('send_email', { to: 'x@gmail.com' }, { agent: 'a' })).toMatchObject({ action: 'escalate', needsHistory: true });
    expect(guard('send_email', { to: 'ceo@acme.com' }, { agent: 'a' })).toMatchObject({ action: 'allow', ruleId: null });
  });

  it('the not_after example loads as written and asks the control plane', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('`not_after:` (same shape)'));
    const rule = (/```yaml\n([\s\S]*?)```/.exec(section)?.[1] as string).replace(/^ {2}/gm, '');
    const example = parsePolicy(`version: 1\ndefault: allow\nrules:\n${rule.replace(/^/gm, '  ')}`);
    expect(createGuard(example)('send_email', { to: 'x@y.z' }, { agent: 'a' })).toMatchObject({ action: 'escalate', needsHistory: true, ruleId: 'unchecked-email' });
  });

  it('the root README example loads as written', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('**Rules that look at more than one call**'));
    const example = parsePolicy(/```yaml\n([\s\S]*?)```/.exec(section)?.[1] as string);
    expect(createGuard(example)('refund_create', { amount: 5 }, { user: 'u1' })).toMatchObject({ action: 'escalate', needsHistory: true, ruleId: 'refund-burst' });
  });
});

describe('history conditions: not_after and globs in after', () => {
  const GATED = `
default: deny
rules:
  - id: unchecked-email
    tool: send_email
    action: escalate
    when:
      not_after: { tool: approval.check, within: 1h, per: [context.agent] }
  - { id: email, tool: send_email, action: allow }
  - id: exfiltration
    tool: post_webhook
    action: escalate
    when:
      after: { tool: ["inbox.*", "files.read"], within: 10m, per: [context.agent] }
  - { id: rest, tool: "**", action: allow }
`;
  const gatedPolicy = parsePolicy(GATED);
  const gated = compilePolicy(gatedPolicy);

  async function decide(calls: readonly { minute: number; tool: string; agent: string }[], history = createMemoryHistory(gated)) {
    const decided: string[] = [];
    for (const [index, { minute, tool, agent }] of calls.entries()) {
      const call = { tool, args: {}, context: { agent } };
      const facts = await gatherHistoryFacts(gated, call, history, T0 + minute * MINUTE);
      const match = gated.evaluateWithHistory(tool, call.args, call.context, facts);
      expect(explainDecision(gatedPolicy, call, { facts })).toMatchObject({ action: match.action, ruleId: match.ruleId });
      decided.push(`${match.action}:${match.ruleId}`);
      history.record({ id: `c${index}`, at: T0 + minute * MINUTE, tool, args: {}, context: call.context, action: match.action, ruleId: match.ruleId });
    }
    return decided;
  }

  it('normalizes not_after into not over after', () => {
    expect(gatedPolicy.rules[0]?.condition).toEqual({ kind: 'not', condition: { kind: 'after', tools: ['approval.check'], window: { withinMs: 3_600_000, per: ['context.agent'] } } });
  });

  it('not_after: escalates an email unless the same agent checked for approval within the hour', async () => {
    expect(
      await decide([
        { minute: 0, tool: 'send_email', agent: 'a' },
        { minute: 1, tool: 'approval.check', agent: 'a' },
        { minute: 2, tool: 'send_email', agent: 'a' },
        { minute: 3, tool: 'send_email', agent: 'b' },
        { minute: 62, tool: 'send_email', agent: 'a' },
      ]),
    ).toEqual(['escalate:unchecked-email', 'allow:rest', 'allow:email', 'escalate:unchecked-email', 'escalate:unchecked-email']);
  });

  it('not_after fails closed: unreadable history is unknown, so the escalate rule applies; the agent-side guard asks the control plane', async () => {
    const broken = { read: async () => Promise.reject(new Error('database down')) };
    const call = { tool: 'send_email', args: {}, context: { agent: 'a' } };
    const facts = await gatherHistoryFacts(gated, call, broken, T0);
    expect(gated.evaluateWithHistory(call.tool, call.args, call.context, facts)).toMatchObject({ action: 'escalate', ruleId: 'unchecked-email', unknownPath: 'after(approval.check)' });
    expect(createGuard(gatedPolicy)('send_email', {}, { agent: 'a' })).toMatchObject({ action: 'escalate', needsHistory: true, ruleId: 'unchecked-email' });
  });

  it('after with globs: any tool a pattern names counts, one segment for *', async () => {
    expect(
      await decide([
        { minute: 0, tool: 'post_webhook', agent: 'a' },
        { minute: 1, tool: 'inbox.list', agent: 'a' },
        { minute: 2, tool: 'post_webhook', agent: 'a' },
        { minute: 3, tool: 'inbox.thread.read', agent: 'b' },
        { minute: 4, tool: 'post_webhook', agent: 'b' },
        { minute: 5, tool: 'files.read', agent: 'b' },
        { minute: 6, tool: 'post_webhook', agent: 'b' },
        { minute: 20, tool: 'post_webhook', agent: 'a' },
      ]),
    ).toEqual(['allow:rest', 'allow:rest', 'escalate:exfiltration', 'allow:rest', 'allow:rest', 'allow:rest', 'escalate:exfiltration', 'allow:rest']);
  });
});

describe('explainDecision with shadow rules', () => {
  it("shows what the shadow rules would decide beside the enforced decision", async () => {
    const call = { tool: 'refund_create', args: { amount: 900 }, context: { user: 'u9' } };
    const facts = await gatherHistoryFacts(compiled, call, createMemoryHistory(compiled), T0);
    const explained = explainDecision(policy, call, { facts });
    expect(explained).toMatchObject({ action: 'allow', ruleId: 'refunds', shadow: { action: 'deny', ruleId: 'big-refund-watch', byShadowRule: true, unknownPath: null } });
    expect(explained.shadow?.action).toBe(compiled.shadow?.evaluateWithHistory(call.tool, call.args, call.context, facts).action);

    // Without the history: the shadow rule itself needs the control plane.
    expect(explainDecision(policy, call).shadow).toMatchObject({ action: 'escalate', ruleId: 'big-refund-watch', needsHistory: true });
    // A call the shadow rules do not touch: the same decision.
    expect(explainDecision(policy, { tool: 'inbox_read', args: {}, context: { agent: 'a' } }).shadow).toMatchObject({ action: 'allow', ruleId: 'inbox', byShadowRule: false });
    expect(explainDecision(parsePolicy('rules: [{ tool: a, action: allow }]'), { tool: 'a', args: {} })).not.toHaveProperty('shadow');
  });
});

