import { hash as oneShotHash } from 'node:crypto';
import type { ApprovalService, Principal } from '../approval-service.js';
import type { ApiKey } from '../config/server-config.js';

const BEARER = /^Bearer ([\x21-\x7e]{16,512})$/;

/**
 * Who an `Authorization: Bearer <api key>` header names, for the routes answered on the raw
 * `node:http` request (the Hono app's `authenticate` does the same): `undefined` for a missing,
 * malformed or unknown key, so the caller hands the request to the Hono app, which refuses it.
 *
 * @example
 * const principalOf = createPrincipalResolver(service, config.apiKeys);
 * principalOf(request.headers.authorization)?.kind; // 'agent'
 */
export function createPrincipalResolver(service: Pick<ApprovalService, 'reviewerById'>, apiKeys: readonly ApiKey[]): (authorization: string | undefined) => Principal | undefined {
  const keysByHash = new Map(apiKeys.map((key) => [key.keySha256, key]));
  return (authorization) => {
    const token = BEARER.exec(authorization ?? '')?.[1];
    const key = token === undefined ? undefined : keysByHash.get(oneShotHash('sha256', token, 'hex'));
    if (!key) return undefined;
    const reviewer = key.reviewer === undefined ? undefined : service.reviewerById(key.reviewer);
    return { name: reviewer?.id ?? key.name, kind: key.kind, ...(reviewer ? { reviewer } : {}) };
  };
}
