import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealAuditEntry } from './audit-chain.js';
import { checkRequestRow } from './check-request-row.js';
import { hashRequestState } from './hash-request-state.js';

const state = { id: 'apr_1', status: 'denied', granted: false, decisions: [] };
const body = JSON.stringify(state);
const stateHash = hashRequestState(state);
const entry = sealAuditEntry({ type: 'request.denied', requestId: 'apr_1', actor: 'ana', detail: {}, stateHash }, 3, '2026-11-24T06:00:00.000Z', GENESIS_HASH);
const row = { id: 'apr_1', body, stateHash, auditSequence: 3 };
const evidence = { entryBody: JSON.stringify(entry), newestStateSequence: 3 };
const problemsOf = (check: ReturnType<typeof checkRequestRow>) => (check.ok ? [] : check.problems);

describe('checkRequestRow', () => {
  it('accepts a row that is the state its newest state event committed to', () => {
    expect(checkRequestRow(row, evidence)).toMatchObject({ ok: true, request: { id: 'apr_1', status: 'denied' } });
  });

  it('refuses a changed body, a body re-hashed to match, and a row Signoff did not write', () => {
    const approved = JSON.stringify({ ...state, status: 'approved', granted: true });
    expect(problemsOf(checkRequestRow({ ...row, body: approved }, evidence))).toEqual(['the row body does not hash to its state_hash (the body was changed)']);
    expect(problemsOf(checkRequestRow({ ...row, body: approved, stateHash: hashRequestState(JSON.parse(approved)) }, evidence))).toEqual([
      'audit entry #3 commits to another state than the row\'s state_hash',
    ]);
    expect(problemsOf(checkRequestRow({ ...row, stateHash: undefined, auditSequence: undefined }, evidence))).toHaveLength(2);
    expect(problemsOf(checkRequestRow({ ...row, body: '{not json' }, evidence))).toContain('the row body is not valid JSON');
  });

  it('refuses a missing, edited, foreign or superseded entry', () => {
    expect(problemsOf(checkRequestRow(row, { ...evidence, entryBody: undefined }))).toContain('audit entry #3 does not exist (the log was cut, or the row points past it)');
    expect(problemsOf(checkRequestRow(row, { ...evidence, entryBody: JSON.stringify({ ...entry, actor: 'mallory' }) }))).toEqual(['audit entry #3 was modified (its hash does not match its content)']);
    const foreign = sealAuditEntry({ type: 'request.denied', requestId: 'apr_2', actor: 'ana', detail: {}, stateHash }, 3, entry.at, GENESIS_HASH);
    expect(problemsOf(checkRequestRow(row, { ...evidence, entryBody: JSON.stringify(foreign) }))).toEqual(['audit entry #3 belongs to apr_2, not apr_1']);
    expect(problemsOf(checkRequestRow(row, { ...evidence, newestStateSequence: 9 }))).toEqual(['a newer state of this request was logged at entry #9: the row was rolled back']);
  });

  it('checks a row in full again whenever any input differs from the one it found matching', () => {
    expect(checkRequestRow(row, evidence).ok).toBe(true); // now remembered as matching
    const approved = JSON.stringify({ ...state, status: 'approved', granted: true });
    const variants: Array<[string, Parameters<typeof checkRequestRow>]> = [
      ['body', [{ ...row, body: approved }, evidence]],
      ['state hash', [{ ...row, stateHash: hashRequestState(JSON.parse(approved)) }, evidence]],
      ['audit sequence', [{ ...row, auditSequence: 2 }, evidence]],
      ['entry', [row, { ...evidence, entryBody: JSON.stringify({ ...entry, actor: 'mallory' }) }]],
      ['newest state', [row, { ...evidence, newestStateSequence: 4 }]],
      ['entry place', [row, { ...evidence, reference: 'entry', entrySequence: 7 }]],
    ];
    for (const [what, [changedRow, changedEvidence]] of variants) expect(checkRequestRow(changedRow, changedEvidence).ok, what).toBe(false);
    expect(checkRequestRow(row, evidence).ok).toBe(true);
  });

  it('gives every reader its own request object, also for a row it found matching before', () => {
    const first = checkRequestRow(row, evidence);
    const second = checkRequestRow(row, evidence);
    if (!first.ok || !second.ok) throw new Error('expected both to match');
    expect(second.request).not.toBe(first.request);
    expect(second.request).toEqual(first.request);
  });
});
