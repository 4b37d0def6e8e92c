import { createGuard, hashArgs, parsePolicy, type ApprovalRequest } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import { applyDecision } from './apply-decision.js';
import { claimExecution } from './claim-execution.js';
import { openApprovalRequest } from './open-approval-request.js';
import { reportExecution } from './report-execution.js';

const guard = createGuard(
  parsePolicy(`
version: 1
rules:
  - id: payments
    tool: payment.send
    action: escalate
    metadata: { approval_timeout_minutes: 30, grant_ttl_minutes: 60 }
  - id: refunds
    tool: refund.create
    action: escalate
    metadata: { approval_timeout_minutes: 30, timeout_action: allow }
`),
);
const start = new Date('2026-11-24T06:00:00.000Z');
const at = (minutes: number) => new Date(start.getTime() + minutes * 60_000);
const args = { to: 'acme', amount: 500 };
const ana = { id: 'ana', name: 'Ana', roles: [] };

function approved(tool = 'payment.send'): ApprovalRequest {
  const request = openApprovalRequest({ tool, args }, { id: 'apr_1', requester: 'agent', now: start, decision: guard(tool, args), defaultTimeoutMs: 60_000 }).request;
  const outcome = applyDecision(request, { reviewer: ana, verdict: 'approve', channel: 'api' }, {
    now: at(1),
    guard,
    defaults: { timeoutMs: 60_000, grantTtlMs: 86_400_000 },
    requesterOwners: [],
    reviewerById: () => ana,
  });
  return outcome.request;
}
const claim = (request: ApprovalRequest, nonce = 'attempt-1', minutes = 2, argsHash = hashArgs(args), policyHash = guard.policy.hash) =>
  claimExecution(request, { principal: 'agent', argsHash, nonce }, { now: at(minutes), policyHash });

describe('claimExecution: an approval is a single-use grant', () => {
  it('moves approved → executed once; a retry of the same attempt gets the same answer; any other claim is refused', () => {
    const first = claim(approved());
    expect(first).toMatchObject({ kind: 'claimed', retried: false, request: { status: 'executed', granted: true, execution: { claimedBy: 'agent', nonce: 'attempt-1' } } });
    expect(first.events.map((event) => event.type)).toEqual(['execution.claimed']);
    const retry = claim(first.request);
    expect(retry).toMatchObject({ kind: 'claimed', retried: true, events: [] });
    const replay = claim(first.request, 'attempt-2');
    expect(replay).toMatchObject({ kind: 'refused', code: 'ALREADY_EXECUTED' });
    expect(replay.kind === 'refused' && replay.reason).toContain('2026-11-24T06:02:00.000Z');
    expect(replay.events).toEqual([expect.objectContaining({ type: 'execution.refused', detail: expect.objectContaining({ code: 'ALREADY_EXECUTED' }) })]);
  });

  it('refuses what was not granted, other args, a grant past its use-by time, and a grant from another policy', () => {
    const pending = openApprovalRequest({ tool: 'payment.send', args }, { id: 'apr_1', requester: 'agent', now: start, decision: guard('payment.send', args), defaultTimeoutMs: 60_000 }).request;
    expect(claim(pending)).toMatchObject({ kind: 'refused', code: 'NOT_GRANTED' });
    expect(claim(approved(), 'n', 2, hashArgs({ to: 'mallory', amount: 500 }))).toMatchObject({ kind: 'refused', code: 'ARGS_MISMATCH' });
    // grant_ttl_minutes: 60 from the approval at minute 1.
    expect(claim(approved(), 'n', 61)).toMatchObject({ kind: 'claimed' });
    expect(claim(approved(), 'n', 62)).toMatchObject({ kind: 'refused', code: 'GRANT_EXPIRED' });
    expect(claim(approved(), 'n', 2, hashArgs(args), 'f'.repeat(64))).toMatchObject({ kind: 'refused', code: 'POLICY_CHANGED' });
  });

  it('expires an overdue request first: timeout_action allow is a grant, deny is not', () => {
    const refund = openApprovalRequest({ tool: 'refund.create', args }, { id: 'apr_2', requester: 'agent', now: start, decision: guard('refund.create', args), defaultTimeoutMs: 60_000 }).request;
    const late = claim(refund, 'n', 31);
    expect(late).toMatchObject({ kind: 'claimed', request: { status: 'executed' } });
    expect(late.events.map((event) => event.type)).toEqual(['request.expired', 'execution.claimed']);
  });

  it('records the outcome once, only from the attempt that claimed', () => {
    const executed = claim(approved()).request;
    expect(reportExecution(executed, { principal: 'agent', nonce: 'other', outcome: 'succeeded' }, at(3))).toMatchObject({ kind: 'refused', code: 'NONCE_MISMATCH' });
    const reported = reportExecution(executed, { principal: 'agent', nonce: 'attempt-1', outcome: 'succeeded', detail: 'pay_123' }, at(3));
    expect(reported).toMatchObject({ kind: 'recorded', request: { execution: { outcome: 'succeeded', reportedAt: '2026-11-24T06:03:00.000Z' } } });
    if (reported.kind !== 'recorded') throw new Error('not recorded');
    expect(reportExecution(reported.request, { principal: 'agent', nonce: 'attempt-1', outcome: 'succeeded' }, at(4))).toMatchObject({ kind: 'recorded', events: [] });
    expect(reportExecution(reported.request, { principal: 'agent', nonce: 'attempt-1', outcome: 'failed' }, at(4))).toMatchObject({ kind: 'refused', code: 'ALREADY_REPORTED' });
    expect(reportExecution(approved(), { principal: 'agent', nonce: 'attempt-1', outcome: 'failed' }, at(4))).toMatchObject({ kind: 'refused', code: 'NOT_EXECUTED' });
  });
});
