import type { ApprovalRequest } from '@signoff/core';
import type { AuditEventInput } from '../audit/audit-event.js';
import { hashRequestState } from '../audit/hash-request-state.js';

/** Events ready to append, and which of them produced the request state being written (if any). */
export interface BoundEvents {
  readonly events: readonly AuditEventInput[];
  /** The state event: its index in `events` and the `stateHash` it carries (the row stores both). */
  readonly state?: { readonly index: number; readonly hash: string };
}

/**
 * Makes the audit log commit to a request state before it is written: the last event of the change
 * that concerns the request gets `stateHash`; a change that logged none gets a `request.updated`
 * event, so no state is ever unlogged. Any `stateHash` a caller put on an event is dropped — only
 * the store binds states. With no request (an audit-only write), it just drops them.
 *
 * @example
 * const bound = bindRequestState(outcome.request, outcome.events);
 * const entries = appendEvents(bound.events); // the row then stores entries[bound.state.index].sequence
 */
export function bindRequestState(request: ApprovalRequest | undefined, events: readonly AuditEventInput[]): BoundEvents {
  const unbound: AuditEventInput[] = events.map(({ stateHash: _dropped, ...event }) => event);
  if (!request) return { events: unbound };
  let index = unbound.findLastIndex((event) => event.requestId === request.id);
  if (index === -1) {
    unbound.push({ type: 'request.updated', requestId: request.id, actor: 'system', channel: 'system', detail: { status: request.status } });
    index = unbound.length - 1;
  }
  const hash = hashRequestState(request);
  unbound[index] = { ...(unbound[index] as AuditEventInput), stateHash: hash };
  return { events: unbound, state: { index, hash } };
}

/** The event that binds a row found unbound when a database from before state binding is migrated. */
export function adoptionEvent(requestId: string): AuditEventInput {
  return { type: 'request.updated', requestId, actor: 'system', channel: 'system', detail: { reason: 'upgrade: the stored state was bound to the audit chain as found' } };
}
