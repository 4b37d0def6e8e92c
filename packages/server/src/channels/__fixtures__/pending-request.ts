import { hashArgs, type ApprovalRequest } from '@signoff/core';

/**
 * A pending request as the store returns it (rule `big-payments`, one finance approval, 30
 * minutes from 2030-01-01T00:00Z), for rendering tests that need no server.
 *
 * @example
 * composeApprovalEmail({ request: pendingRequest({ to: 'acme', amount: 500 }), … });
 */
export function pendingRequest(args: unknown, extra: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const argsHash = hashArgs(args);
  return {
    id: 'apr_0123456789abcdef',
    tool: 'payment.send',
    args,
    argsHash,
    context: undefined,
    reason: 'Payments over $100 need approval',
    ruleId: 'big-payments',
    policyHash: 'x',
    requester: 'payments-agent',
    onBehalfOf: undefined,
    requirements: { requiredApprovals: 1, approverRoles: ['finance'], timeoutMs: 1_800_000, timeoutAction: 'deny', grantTtlMs: 86_400_000 },
    notify: [],
    status: 'pending',
    granted: false,
    approvedArgs: args,
    approvedArgsHash: argsHash,
    decisions: [],
    resolution: 'Waiting for approval',
    createdAt: '2030-01-01T00:00:00.000Z',
    expiresAt: '2030-01-01T00:30:00.000Z',
    resolvedAt: undefined,
    idempotencyKey: undefined,
    callbackUrl: undefined,
    ...extra,
  };
}
