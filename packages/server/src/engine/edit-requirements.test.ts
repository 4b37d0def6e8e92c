import { createGuard, hashArgs, parsePolicy, type ApprovalRequest } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import { applyDecision, type DecisionEnvironment } from './apply-decision.js';
import { openApprovalRequest } from './open-approval-request.js';
import type { Reviewer } from './reviewer.js';

// The two cases of issue #12: an edit that moves a call under a stricter rule must not keep the weaker quorum.
const guard = createGuard(
  parsePolicy(`
version: 1
default: deny
rules:
  - id: no-wires-to-eth
    tool: wire.send
    action: deny
    when: { args.to: { ends_with: .eth } }
  - id: wire-huge
    tool: wire.send
    action: escalate
    when: { args.amount: { gt: 10000 } }
    metadata: { required_approvals: 2, approver_roles: [finance, security], approval_timeout_minutes: 20, grant_ttl_minutes: 10 }
  - id: wire-small
    tool: wire.send
    action: escalate
    metadata: { required_approvals: 1, approver_roles: [finance], approval_timeout_minutes: 60 }
  - id: refund-big
    tool: refund.create
    action: escalate
    when: { args.amount: { gt: 1000 } }
    metadata: { approver_roles: [finance] }
  - id: refund-small
    tool: refund.create
    action: escalate
    when: { args.amount: { gt: 10 } }
    metadata: { approver_roles: [support] }
  - id: refund-tiny
    tool: refund.create
    action: allow
`),
);

const reviewers: Record<string, Reviewer> = {
  fin: { id: 'fin', name: 'Fin', roles: ['finance'] },
  fin2: { id: 'fin2', name: 'Fay', roles: ['finance'] },
  sec: { id: 'sec', name: 'Sam', roles: ['security'] },
  sup: { id: 'sup', name: 'Sue', roles: ['support'] },
};
const start = new Date('2026-11-24T06:00:00.000Z');
const environment = (minutesLater = 1): DecisionEnvironment => ({
  now: new Date(start.getTime() + minutesLater * 60_000),
  guard,
  defaults: { timeoutMs: 60 * 60_000, grantTtlMs: 24 * 3_600_000 },
  requesterOwners: [],
  reviewerById: (id) => reviewers[id],
});

function open(tool: string, args: unknown): ApprovalRequest {
  return openApprovalRequest({ tool, args }, { id: 'apr_1', requester: 'agent', now: start, decision: guard(tool, args), defaultTimeoutMs: 60 * 60_000 }).request;
}
const approve = (request: ApprovalRequest, reviewer: string, extra: { editedArgs?: unknown; argsHash?: string } = {}, minutes = 1) =>
  applyDecision(request, { reviewer: reviewers[reviewer] as Reviewer, verdict: 'approve', channel: 'api', ...extra }, environment(minutes));

describe('edits are decided as if the agent had sent the edited args', () => {
  it('an edit into a stricter rule stays pending under that rule’s quorum, not approved by the editor alone', () => {
    const request = open('wire.send', { to: 'acme', amount: 500 });
    expect(request.ruleId).toBe('wire-small');
    const edited = approve(request, 'fin', { editedArgs: { to: 'acme', amount: 50_000 } });
    expect(edited.kind).toBe('applied');
    expect(edited.request).toMatchObject({
      status: 'pending',
      granted: false,
      ruleId: 'wire-huge',
      approvedArgs: { to: 'acme', amount: 50_000 },
      requirements: { requiredApprovals: 2, approverRoles: ['finance', 'security'], timeoutMs: 20 * 60_000, grantTtlMs: 10 * 60_000 },
      // The earlier deadline of the two: now + 20 min, before the original 60.
      expiresAt: '2026-11-24T06:21:00.000Z',
    });
    expect(edited.events.map((event) => event.type)).toEqual(['request.requirements_changed', 'decision.recorded']);
    expect(edited.events[0]?.detail).toMatchObject({ fromRuleId: 'wire-small', toRuleId: 'wire-huge' });

    // A second finance reviewer is not enough: security must be represented too.
    const second = approve(edited.request, 'fin2');
    expect(second.request.status).toBe('pending');
    const third = approve(second.request, 'sec');
    expect(third.request).toMatchObject({ status: 'approved', approvedArgs: { to: 'acme', amount: 50_000 } });
  });

  it('a support reviewer cannot turn a small refund into one only finance may approve', () => {
    const request = open('refund.create', { order: 'o-1', amount: 20 });
    expect(request.requirements.approverRoles).toEqual(['support']);
    const edited = approve(request, 'sup', { editedArgs: { order: 'o-1', amount: 250_000 } });
    expect(edited.request).toMatchObject({
      status: 'pending',
      ruleId: 'refund-big',
      requirements: { requiredApprovals: 1, approverRoles: ['finance'] },
      alsoRequired: [expect.objectContaining({ requiredApprovals: 1, approverRoles: ['support'] })],
    });
    // The editor's own approval counts for what support must approve, never for finance's part.
    expect(approve(edited.request, 'sup')).toMatchObject({ kind: 'refused', code: 'DUPLICATE_DECISION' });
    expect(approve(edited.request, 'fin').request.status).toBe('approved');
    const fresh = approve(open('refund.create', { order: 'o-1', amount: 20 }), 'fin', {}, 1);
    expect(fresh).toMatchObject({ kind: 'refused', code: 'NOT_AN_APPROVER' });
  });

  it('an edit never lowers requirements: into a looser rule, or allowed outright, the stricter ones stand', () => {
    const huge = open('wire.send', { to: 'acme', amount: 20_000 });
    const smaller = approve(huge, 'fin', { editedArgs: { to: 'acme', amount: 900 } });
    // wire-small asks for 1 finance approval; the request keeps needing wire-huge's 2 with both roles.
    expect(smaller.request).toMatchObject({
      status: 'pending',
      requirements: { requiredApprovals: 1, approverRoles: ['finance'] },
      alsoRequired: [expect.objectContaining({ requiredApprovals: 2, approverRoles: ['finance', 'security'] })],
    });
    expect(approve(smaller.request, 'sec').request.status).toBe('approved');

    const refund = open('refund.create', { order: 'o-2', amount: 50 });
    const tiny = approve(refund, 'sup', { editedArgs: { order: 'o-2', amount: 5 } });
    expect(tiny.request).toMatchObject({ status: 'approved', ruleId: 'refund-small', requirements: { approverRoles: ['support'] }, approvedArgs: { amount: 5 } });
  });

  it('an edit the policy denies is refused; an edit to the same rule resets earlier approvals only', () => {
    const request = open('wire.send', { to: 'acme', amount: 20_000 });
    expect(approve(request, 'fin', { editedArgs: { to: 'vitalik.eth', amount: 20_000 } })).toMatchObject({ kind: 'refused', code: 'EDIT_REFUSED' });
    const first = approve(request, 'fin');
    const edited = approve(first.request, 'sec', { editedArgs: { to: 'acme', amount: 19_000 } });
    expect(edited.events.map((event) => event.type)).toEqual(['decision.recorded']);
    expect(edited.request).toMatchObject({ status: 'pending', ruleId: 'wire-huge' });
    expect(approve(edited.request, 'fin2').request.status).toBe('approved');
  });

  it('an approval names the args it saw: approving after they changed is refused with ARGS_CHANGED', () => {
    const request = open('wire.send', { to: 'acme', amount: 20_000 });
    const shown = request.approvedArgsHash;
    const edited = approve(request, 'fin', { editedArgs: { to: 'mallory', amount: 20_000 } });
    const late = approve(edited.request, 'sec', { argsHash: shown });
    expect(late).toMatchObject({ kind: 'refused', code: 'ARGS_CHANGED' });
    expect(late.events).toEqual([expect.objectContaining({ type: 'decision.refused', detail: expect.objectContaining({ code: 'ARGS_CHANGED' }) })]);
    expect(approve(edited.request, 'sec', { argsHash: hashArgs({ to: 'mallory', amount: 20_000 }) }).request.status).toBe('approved');
    // A deny stands whatever the args became.
    const veto = applyDecision(edited.request, { reviewer: reviewers.sec as Reviewer, verdict: 'deny', channel: 'api', argsHash: shown }, environment());
    expect(veto.request.status).toBe('denied');
  });
});
