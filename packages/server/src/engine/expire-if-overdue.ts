import type { ApprovalRequest } from '@signoff/core';
import type { AuditEventInput } from '../audit/audit-event.js';

/**
 * Resolves a pending request whose deadline has passed with its `timeoutAction` (fail-closed:
 * `deny` unless the rule says `allow`). `undefined` when there is nothing to do.
 */
export function expireIfOverdue(
  request: ApprovalRequest,
  now: Date,
): { request: ApprovalRequest; events: AuditEventInput[] } | undefined {
  if (request.status !== 'pending' || now.getTime() < Date.parse(request.expiresAt)) return undefined;
  const { timeoutAction, timeoutMs } = request.requirements;
  const granted = timeoutAction === 'allow';
  const resolution = `No decision within ${formatDuration(timeoutMs)}; timeout_action ${timeoutAction}${granted ? ' lets it run' : ' refuses it'}`;
  return {
    request: { ...request, status: 'expired', granted, resolution, resolvedAt: now.toISOString() },
    events: [
      { type: 'request.expired', requestId: request.id, actor: 'system', channel: 'system', detail: { timeoutAction, granted } },
    ],
  };
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
