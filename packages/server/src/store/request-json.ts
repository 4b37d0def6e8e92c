import type { ApprovalRequest } from '@signoff/core';

/** Serializes a request for storage. */
export function requestToJson(request: ApprovalRequest): string {
  return JSON.stringify(request);
}

/** Parses a stored request. JSON drops `undefined`: the optional fields come back as `undefined`, so a request reads back equal. */
export function requestFromJson(body: string | object): ApprovalRequest {
  const parsed = typeof body === 'string' ? (JSON.parse(body) as object) : body;
  return { context: undefined, onBehalfOf: undefined, resolvedAt: undefined, idempotencyKey: undefined, callbackUrl: undefined, ...parsed } as ApprovalRequest;
}
