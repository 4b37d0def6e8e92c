import { createGuard, parsePolicy, type ApprovalRequest } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import { applyDecision, type DecisionEnvironment, type DecisionInput } from './apply-decision.js';
import { openApprovalRequest } from './open-approval-request.js';
import type { Reviewer } from './reviewer.js';

const policy = createGuard(
  parsePolicy(`
version: 1
default: deny
rules:
  - id: no-crypto
    tool: payment.send
    action: deny
    when: { args.to: { ends_with: ".eth" } }
  - id: big-payments
    tool: payment.send
    action: escalate
    when: { args.amount: { gt: 100 } }
    metadata: { required_approvals: 2, approver_roles: [finance, security], approval_timeout_minutes: 30 }
  - tool: payment.send
    action: allow
`),
);

const reviewers: Record<string, Reviewer> = {
  ana: { id: 'ana', name: 'Ana', roles: ['finance'] },
  bo: { id: 'bo', name: 'Bo', roles: ['finance'] },
  sec: { id: 'sec', name: 'Sam', roles: ['security'] },
  both: { id: 'both', name: 'Bea', roles: ['finance', 'security'] },
  dev: { id: 'dev', name: 'Dev', roles: ['engineering'] },
};
const start = new Date('2026-11-24T06:00:00.000Z');

function pendingPayment(args: unknown = { to: 'acme', amount: 500 }, onBehalfOf?: string): ApprovalRequest {
    return openApprovalRequest(
    { tool: 'payment.send', args, ...(onBehalfOf ? { onBehalfOf } : {}) },
    { id: 'apr_1', requester: 'payments-agent', now: start, decision: policy('payment.send', args), defaultTimeoutMs: 60_000 },
  ).request;
}

function environment(minutesLater = 1, owners: string[] = []): DecisionEnvironment {
  return {
    now: new Date(start.getTime() + minutesLater * 60_000),
    guard: policy,
    defaults: { timeoutMs: 60_000, grantTtlMs: 86_400_000 },
    requesterOwners: owners,
    reviewerById: (id) => reviewers[id],
  };
}

function decide(request: ApprovalRequest, reviewer: string, verdict: 'approve' | 'deny', extra: Partial<DecisionInput> = {}, env = environment()) {
  return applyDecision(request, { reviewer: reviewers[reviewer] as Reviewer, verdict, channel: 'api', ...extra }, env);
}

describe('applyDecision', () => {
  it('opens a pending request with the rule requirements and a deadline', () => {
    const request = pendingPayment();
    expect(request).toMatchObject({ status: 'pending', granted: false, ruleId: 'big-payments', expiresAt: '2026-11-24T06:30:00.000Z' });
    expect(request.requirements).toMatchObject({ requiredApprovals: 2, approverRoles: ['finance', 'security'], timeoutMs: 1_800_000 });
  });

  it('approves when two reviewers cover both roles', () => {
    const first = decide(pendingPayment(), 'ana', 'approve');
    expect(first).toMatchObject({ kind: 'applied', request: { status: 'pending' } });
    const second = decide(first.request, 'sec', 'approve');
    expect(second).toMatchObject({ kind: 'applied', request: { status: 'approved', granted: true, resolution: 'Approved by Ana, Sam' } });
    expect(second.events.map((event) => event.type)).toEqual(['decision.recorded', 'request.approved']);
  });

  it('does not approve two reviewers of the same role when both roles are required', () => {
    const first = decide(pendingPayment(), 'ana', 'approve');
    const second = decide(first.request, 'bo', 'approve');
    expect(second.request.status).toBe('pending');
    expect(decide(second.request, 'sec', 'approve').request.status).toBe('approved');
  });

  it('counts a reviewer holding both roles once', () => {
    const first = decide(pendingPayment(), 'both', 'approve');
    expect(first.request.status).toBe('pending');
    expect(decide(first.request, 'ana', 'approve').request.status).toBe('approved');
  });

  it('lets one deny veto, even after an approval', () => {
    const first = decide(pendingPayment(), 'ana', 'approve');
    const veto = decide(first.request, 'sec', 'deny', { comment: 'unknown vendor' });
    expect(veto).toMatchObject({ kind: 'applied', request: { status: 'denied', granted: false, resolution: 'Denied by Sam: unknown vendor' } });
  });

  it('refuses the same reviewer twice (whatever the channel), a wrong role, and a resolved request', () => {
    const first = decide(pendingPayment(), 'ana', 'approve');
    expect(decide(first.request, 'ana', 'approve', { channel: 'slack' })).toMatchObject({ kind: 'refused', code: 'DUPLICATE_DECISION' });
    expect(decide(first.request, 'dev', 'approve')).toMatchObject({ kind: 'refused', code: 'NOT_AN_APPROVER' });
    const denied = decide(first.request, 'sec', 'deny').request;
    const late = decide(denied, 'both', 'approve');
    expect(late).toMatchObject({ kind: 'refused', code: 'ALREADY_RESOLVED' });
    expect(late.events).toEqual([expect.objectContaining({ type: 'decision.refused', actor: 'both', detail: expect.objectContaining({ code: 'ALREADY_RESOLVED' }) })]);
  });

  it('refuses self-approval by the user the agent acts for and by the agent owner, but lets them deny', () => {
    const request = pendingPayment(undefined, 'ana');
    expect(decide(request, 'ana', 'approve')).toMatchObject({ kind: 'refused', code: 'SELF_APPROVAL' });
    expect(decide(pendingPayment(), 'sec', 'approve', {}, environment(1, ['sec']))).toMatchObject({ kind: 'refused', code: 'SELF_APPROVAL' });
    expect(decide(request, 'ana', 'deny').request.status).toBe('denied');
  });

  it('refuses a late decision with EXPIRED and expires the request fail-closed', () => {
    const late = decide(pendingPayment(), 'ana', 'approve', {}, environment(31));
    expect(late).toMatchObject({ kind: 'refused', code: 'EXPIRED', request: { status: 'expired', granted: false } });
    expect(late.events.map((event) => event.type)).toEqual(['request.expired', 'decision.refused']);
  });

  it('re-checks edited args: an edit the policy denies is refused; an accepted edit resets earlier approvals', () => {
    const first = decide(pendingPayment(), 'ana', 'approve');
    expect(decide(first.request, 'sec', 'approve', { editedArgs: { to: 'vitalik.eth', amount: 500 } })).toMatchObject({
      kind: 'refused',
      code: 'EDIT_REFUSED',
    });
    const edited = decide(first.request, 'sec', 'approve', { editedArgs: { to: 'acme', amount: 450 } });
    expect(edited.request).toMatchObject({ status: 'pending', approvedArgs: { to: 'acme', amount: 450 } });
    const approved = decide(edited.request, 'ana', 'approve');
    expect(approved.request).toMatchObject({ status: 'approved', approvedArgs: { to: 'acme', amount: 450 } });
    expect(approved.request.approvedArgsHash).not.toBe(approved.request.argsHash);
  });

  it('stores calls the server policy allows or denies as already resolved', () => {
    expect(pendingPayment({ to: 'acme', amount: 5 })).toMatchObject({ status: 'approved', granted: true, ruleId: 'rule-3' });
    expect(pendingPayment({ to: 'x.eth', amount: 5 })).toMatchObject({ status: 'denied', granted: false, ruleId: 'no-crypto' });
  });
});
