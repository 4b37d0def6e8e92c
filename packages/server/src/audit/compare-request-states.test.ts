import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealAuditEntry } from './audit-chain.js';
import type { AuditEntry, AuditEventInput } from './audit-event.js';
import { compareRequestStates } from './compare-request-states.js';
import { hashRequestState } from './hash-request-state.js';

const pending = { id: 'apr_1', status: 'pending' };
const denied = { id: 'apr_1', status: 'denied' };

function log(...events: AuditEventInput[]): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (const event of events) entries.push(sealAuditEntry(event, entries.length + 1, '2026-11-24T06:00:00.000Z', entries.at(-1)?.hash ?? GENESIS_HASH));
  return entries;
}
const stateEvent = (type: AuditEventInput['type'], state: { id: string; status: string }): AuditEventInput => ({ type, requestId: state.id, actor: 'ana', detail: {}, stateHash: hashRequestState(state) });
const rowOf = (state: { id: string; status: string }, auditSequence: number) => ({ id: state.id, body: JSON.stringify(state), stateHash: hashRequestState(state), auditSequence });
const entries = log(stateEvent('request.created', pending), { type: 'decision.refused', requestId: 'apr_ghost', actor: 'agent', detail: {} }, stateEvent('request.denied', denied));

describe('compareRequestStates', () => {
  it('finds nothing when every row is its newest logged state (refusals naming unknown ids are not states)', () => {
    expect(compareRequestStates(entries, [rowOf(denied, 3)])).toEqual([]);
  });

  it('names a row that is not its newest logged state — edited, or rolled back with its binding', () => {
    const approved = { id: 'apr_1', status: 'approved' };
    expect(compareRequestStates(entries, [rowOf(approved, 3)])).toEqual([
      { requestId: 'apr_1', problems: ['the row body is not the state logged last, at entry #3', expect.stringMatching(/^the row's state_hash \w+… is not the logged \w+…$/)] },
    ]);
    expect(compareRequestStates(entries, [rowOf(pending, 1)])[0]?.problems).toContain('the row points at entry #1, but its newest logged state is #3');
  });

  it('names a row no event produced, and logged states with no row', () => {
    expect(compareRequestStates(entries, [rowOf(denied, 3), rowOf({ id: 'apr_2', status: 'approved' }, 3)])).toEqual([
      { requestId: 'apr_2', problems: ['no audit event produced this row (inserted outside Signoff, or its events were deleted)'] },
    ]);
    expect(compareRequestStates(entries, [])).toEqual([{ requestId: 'apr_1', problems: [expect.stringContaining('it has no row')] }]);
  });
});
