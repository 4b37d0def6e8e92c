import type { ApprovalRequest } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../audit/audit-event.js';
import { hashRequestState } from '../audit/hash-request-state.js';
import { bindRequestState } from './bind-request-state.js';

const request = { id: 'apr_1', status: 'denied', args: { amount: 5 } } as unknown as ApprovalRequest;
const event = (type: AuditEventInput['type'], requestId?: string): AuditEventInput => ({ type, ...(requestId ? { requestId } : {}), actor: 'ana', detail: {} });

describe('bindRequestState', () => {
  it('stamps the last event about the request with the hash of the state written', () => {
    const bound = bindRequestState(request, [event('decision.recorded', 'apr_1'), event('request.denied', 'apr_1'), event('access.refused', 'apr_2')]);
    expect(bound.state).toEqual({ index: 1, hash: hashRequestState(request) });
    expect(bound.events.map((entry) => entry.stateHash)).toEqual([undefined, hashRequestState(request), undefined]);
  });

  it('adds request.updated when the change logged nothing about the request', () => {
    const bound = bindRequestState(request, [event('access.refused')]);
    expect(bound.events[1]).toEqual({ type: 'request.updated', requestId: 'apr_1', actor: 'system', channel: 'system', detail: { status: 'denied' }, stateHash: hashRequestState(request) });
    expect(bound.state?.index).toBe(1);
  });

  it('drops any stateHash a caller set, with or without a state', () => {
    const forged = { ...event('decision.refused', 'apr_1'), stateHash: 'f'.repeat(64) };
    expect(bindRequestState(undefined, [forged])).toEqual({ events: [event('decision.refused', 'apr_1')] });
    expect(bindRequestState(request, [forged, event('access.refused')]).events[0]?.stateHash).toBe(hashRequestState(request));
  });

  it('hashes the state as it reads back from JSON (key order and undefined members do not matter)', () => {
    const withUndefined = { ...request, resolvedAt: undefined } as ApprovalRequest;
    expect(hashRequestState(withUndefined)).toBe(hashRequestState(JSON.parse(JSON.stringify({ args: { amount: 5 }, status: 'denied', id: 'apr_1' }))));
  });
});
