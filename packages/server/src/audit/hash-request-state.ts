import { canonicalJson } from '@signoff/core';
import { hash as oneShotHash } from 'node:crypto';

/**
 * The hash that binds a stored request to the audit event that produced it: sha256 (hex) of the
 * canonical JSON of the request. Canonical, so the state read back from its JSON row hashes the
 * same as the state that was written (key order and dropped `undefined` members do not matter).
 *
 * @example
 * const stateHash = hashRequestState(JSON.parse(row.body));
 */
export function hashRequestState(request: unknown): string {
  return oneShotHash('sha256', canonicalJson(request), 'hex');
}
