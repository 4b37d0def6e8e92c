import { describe, expect, it } from 'vitest';
import { hashArgs } from '../hash-args.js';
import type { ApprovalRequest } from '../spec/approval-request.js';
import { checkApproval } from './check-approval.js';

const args = { to: 'acme', amount: 500 };
const approved: ApprovalRequest = {
  id: 'apr_0123456789',
  tool: 'payment.send',
  args,
  argsHash: hashArgs(args),
  context: undefined,
  reason: 'r',
  ruleId: 'big-payments',
  policyHash: 'h',
  requester: 'agent',
  onBehalfOf: undefined,
  requirements: { requiredApprovals: 1, approverRoles: [], timeoutMs: 60_000, timeoutAction: 'deny', grantTtlMs: 86_400_000 },
  notify: [],
  status: 'approved',
  granted: true,
  approvedArgs: { to: 'acme', amount: 450 },
  approvedArgsHash: hashArgs({ amount: 450, to: 'acme' }),
  decisions: [],
  resolution: 'Approved by Ana',
  createdAt: '2026-11-24T06:00:00.000Z',
  expiresAt: '2026-11-24T06:01:00.000Z',
  resolvedAt: '2026-11-24T06:00:30.000Z',
  idempotencyKey: undefined,
  callbackUrl: undefined,
};

describe('checkApproval', () => {
  it('grants the approved (edited) args for the very call it was requested for', () => {
    expect(checkApproval(approved, { tool: 'payment.send', args: { amount: 500, to: 'acme' } })).toEqual({ granted: true, args: { to: 'acme', amount: 450 } });
  });

  it.each([
    ['another tool', { tool: 'payment.refund', args }, /is for tool payment.send/],
    ['other args', { tool: 'payment.send', args: { to: 'acme', amount: 50_000 } }, /different args/],
  ])('refuses an approval presented for %s', (_name, call, reason) => {
    expect(checkApproval(approved, call)).toMatchObject({ granted: false, reason: expect.stringMatching(reason) });
  });

  it('refuses pending, denied, and tampered approvals', () => {
    const call = { tool: 'payment.send', args };
    expect(checkApproval({ ...approved, status: 'pending', granted: false }, call)).toMatchObject({ granted: false, reason: expect.stringContaining('pending') });
    expect(checkApproval({ ...approved, status: 'denied', granted: false, resolution: 'Denied by Sam' }, call)).toEqual({ granted: false, reason: 'Denied by Sam' });
    expect(checkApproval({ ...approved, approvedArgs: { to: 'mallory', amount: 450 } }, call)).toMatchObject({ granted: false, reason: expect.stringContaining('do not match') });
  });
});
