import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hashArgs } from '../hash-args.js';
import { createGuard } from './create-guard.js';

const seed = fileURLToPath(new URL('../../../../examples/policies/seed.yaml', import.meta.url));

describe('createGuard with the seed policy', () => {
  const guard = createGuard(seed, { now: () => Date.parse('2026-11-24T06:00:00.000Z') });

  it('escalates a payment over $100 with the rule requirements and an args-bound receipt', () => {
    const decision = guard('payment.send', { to: 'vendor@example.com', amount: 500 });
    expect(decision).toMatchObject({
      action: 'escalate',
      ruleId: 'big-payments',
      reason: 'Payments over $100 require human approval (500 to vendor@example.com)',
      approval: { requiredApprovals: 2, approverRoles: ['finance', 'engineering-lead'], timeoutMs: 1_800_000, timeoutAction: 'deny' },
    });
    expect(decision.receipt).toMatchObject({
      policyHash: guard.policy.hash,
      argsHash: hashArgs({ amount: 500, to: 'vendor@example.com' }),
      at: '2026-11-24T06:00:00.000Z',
    });
    expect(decision.receipt.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('allows a small payment and an internal email, with no argsHash on the receipt', () => {
    const payment = guard('payment.send', { to: 'vendor@example.com', amount: 40 });
    expect(payment).toMatchObject({ action: 'allow', ruleId: 'routine-payments-and-mail' });
    expect(payment.receipt.argsHash).toBeUndefined();
    expect(guard('email.send', { to: 'ops@yourcompany.com' }).action).toBe('allow');
  });

  it('escalates an external email and accepts a numeric string amount', () => {
    expect(guard('email.send', { to: 'someone@gmail.com' }).ruleId).toBe('external-email');
    expect(guard('payment.send', { to: 'x', amount: '250.00' }).ruleId).toBe('big-payments');
  });

  it('fails closed when the amount is missing: the escalate rule applies and names the path', () => {
    const decision = guard('payment.send', { to: 'vendor@example.com' });
    expect(decision).toMatchObject({ action: 'escalate', ruleId: 'big-payments', unknownPath: 'args.amount' });
    expect(decision.reason).toContain('args.amount could not be judged');
  });

  it('denies a tool no rule names, by the default', () => {
    expect(guard('shell.exec', { command: 'rm -rf /' })).toMatchObject({ action: 'deny', ruleId: null });
  });

  it('gives every decision its own receipt id', () => {
    const ids = new Set(Array.from({ length: 100 }, () => guard('invoice.get', { id: 1 }).receipt.id));
    expect(ids.size).toBe(100);
  });
});
