import { describe, expect, it } from 'vitest';
import { runDemo } from './run-demo.js';

describe('pnpm demo', () => {
  it('decides every call with the seed policy and prints decision, rule and reason', () => {
    const lines: string[] = [];
    const decisions = runDemo((line) => lines.push(line));
    expect(decisions.map((decision) => [decision.tool, decision.action, decision.ruleId])).toEqual([
      ['invoice.get', 'allow', 'read-only'],
      ['payment.send', 'allow', 'routine-payments-and-mail'],
      ['payment.send', 'escalate', 'big-payments'],
      ['payment.send', 'escalate', 'big-payments'],
      ['payment.send', 'escalate', 'big-payments'],
      ['email.send', 'allow', 'routine-payments-and-mail'],
      ['email.send', 'escalate', 'external-email'],
      ['shell.exec', 'deny', null],
    ]);
    const output = lines.join('\n');
    expect(output).toContain('reason: Payments over $100 require human approval (1250 to acme-supplies)');
    expect(output).toContain('unknown: args.amount');
    expect(output).toContain('8 calls: 3 allow, 1 deny, 4 escalate.');
  });
});
