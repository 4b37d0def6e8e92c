import { hashArgs, type ApprovalRequest, type Decision } from '@signoff/core';
import type { AuditEventInput } from '../audit/audit-event.js';
import { resolveRequirements } from './tighten-requirements.js';

/** What an agent sends to ask for approval (validated by the API). */
export interface ApprovalRequestInput {
  readonly tool: string;
  readonly args: unknown;
  readonly context?: Readonly<Record<string, unknown>>;
  readonly idempotencyKey?: string;
  readonly callbackUrl?: string;
  readonly onBehalfOf?: string;
  /** Reviewer ids or roles to notify as well; never lowers what the policy requires. */
  readonly notify?: readonly string[];
}

export interface OpenRequestEnvironment {
  readonly id: string;
  readonly requester: string;
  readonly now: Date;
  /** The server policy's decision on the call. */
  readonly decision: Pick<Decision, 'action' | 'ruleId' | 'reason' | 'approval' | 'receipt'>;
  /** Used when the rule sets no `approval_timeout_minutes`. */
  readonly defaultTimeoutMs: number;
  /** Used when the rule sets no `grant_ttl_minutes` (default 24 h). */
  readonly defaultGrantTtlMs?: number;
}

/** How long a grant stays usable when neither the rule nor the server config says: 24 h. */
export const DEFAULT_GRANT_TTL_MS = 24 * 3_600_000;

/**
 * Builds a new request from the server policy's verdict: `escalate` opens it pending with the
 * rule's requirements; `allow` and `deny` store it already approved or denied, so the agent gets
 * one answer whatever it believed about the policy.
 */
export function openApprovalRequest(
  input: ApprovalRequestInput,
  environment: OpenRequestEnvironment,
): { request: ApprovalRequest; events: AuditEventInput[] } {
  const { decision: match, now } = environment;
  const createdAt = now.toISOString();
  const approval = match.approval ?? { requiredApprovals: 1, approverRoles: [], timeoutMs: undefined, timeoutAction: 'deny' as const };
  const requirements = resolveRequirements(approval, {
    timeoutMs: environment.defaultTimeoutMs,
    grantTtlMs: environment.defaultGrantTtlMs ?? DEFAULT_GRANT_TTL_MS,
  });
  const argsHash = match.receipt.argsHash ?? hashArgs(input.args);
  const decidedByPolicy = match.action !== 'escalate';
  const status = match.action === 'allow' ? 'approved' : match.action === 'deny' ? 'denied' : 'pending';
  const request: ApprovalRequest = {
    id: environment.id,
    tool: input.tool,
    args: input.args,
    argsHash,
    context: input.context,
    reason: match.reason,
    ruleId: match.ruleId,
    policyHash: match.receipt.policyHash,
    requester: environment.requester,
    onBehalfOf: input.onBehalfOf,
    requirements,
    notify: input.notify ?? [],
    status,
    granted: match.action === 'allow',
    approvedArgs: input.args,
    approvedArgsHash: argsHash,
    decisions: [],
    resolution: decidedByPolicy ? `The server policy decided ${match.action}: ${match.reason}` : 'Waiting for approval',
    createdAt,
    expiresAt: decidedByPolicy ? createdAt : new Date(now.getTime() + requirements.timeoutMs).toISOString(),
    resolvedAt: decidedByPolicy ? createdAt : undefined,
    idempotencyKey: input.idempotencyKey,
    callbackUrl: input.callbackUrl,
  };
  const events: AuditEventInput[] = [
    {
      type: 'request.created',
      requestId: request.id,
      actor: environment.requester,
      channel: 'api',
      detail: { tool: request.tool, argsHash, ruleId: match.ruleId, action: match.action, policyHash: match.receipt.policyHash },
    },
  ];
  if (decidedByPolicy) {
    events.push({
      type: status === 'approved' ? 'request.approved' : 'request.denied',
      requestId: request.id,
      actor: 'policy',
      channel: 'system',
      detail: { resolution: request.resolution },
    });
  }
  return { request, events };
}
