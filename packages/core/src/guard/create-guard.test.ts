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

describe('createGuard on args it cannot read', () => {
  it('throws what the getter or Proxy threw: no decision, so nothing runs', () => {
    const guard = createGuard(seed);
    const throwing = Object.defineProperty({}, 'amount', { enumerable: true, get: () => { throw new Error('boom'); } });
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); }, has: () => { throw new Error('trap'); } });
    expect(() => guard('payment.send', throwing)).toThrow('boom');
    expect(() => guard('payment.send', hostile)).toThrow('trap');
    expect(guard('payment.send', { to: 'vendor@example.com', amount: 500 }).action).toBe('escalate');
  });
});

describe('createGuard receipts are made when read', () => {
  it('keeps the decision time, not the time of the first read, and the same id on every read', () => {
    let clock = Date.parse('2026-11-24T06:00:00.000Z');
    const guard = createGuard(seed, { now: () => clock });
    const decision = guard('invoice.get', { id: 1 });
    clock += 60_000;
    expect(decision.receipt.at).toBe('2026-11-24T06:00:00.000Z');
    expect(decision.receipt.id).toBe(decision.receipt.id);
    expect(guard('invoice.get', { id: 1 }).receipt.at).toBe('2026-11-24T06:01:00.000Z');
  });

  it('serializes every receipt field, and argsHash only for escalations', () => {
    const guard = createGuard(seed, { now: () => Date.parse('2026-11-24T06:00:00.000Z') });
    const allowed = guard('invoice.get', { id: 1 });
    expect(JSON.parse(JSON.stringify(allowed.receipt))).toEqual({ id: allowed.receipt.id, policyHash: guard.policy.hash, at: '2026-11-24T06:00:00.000Z' });
    const escalated = guard('payment.send', { to: 'vendor@example.com', amount: 500 });
    expect(JSON.parse(JSON.stringify(escalated))).toMatchObject({
      action: 'escalate',
      receipt: { id: escalated.receipt.id, policyHash: guard.policy.hash, argsHash: hashArgs({ amount: 500, to: 'vendor@example.com' }), at: '2026-11-24T06:00:00.000Z' },
    });
  });

  it('keeps reason and receipt when a decision is spread into a new object', () => {
    const guard = createGuard(seed);
    const decision = guard('payment.send', { to: 'vendor@example.com', amount: 500 });
    const copy = { ...decision, context: { user: 'ana' } };
    expect(copy.reason).toBe(decision.reason);
    expect(copy.receipt.id).toBe(decision.receipt.id);
    expect(copy.receipt.argsHash).toBe(hashArgs({ amount: 500, to: 'vendor@example.com' }));
  });
});
