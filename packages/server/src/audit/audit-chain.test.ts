import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealAuditEntry, verifyAuditChain } from './audit-chain.js';
import type { AuditEntry } from './audit-event.js';

function chain(length: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let sequence = 1; sequence <= length; sequence += 1) {
    const previous = entries.at(-1)?.hash ?? GENESIS_HASH;
    entries.push(
      sealAuditEntry({ type: 'decision.recorded', requestId: `apr_${sequence}`, actor: 'ana', channel: 'api', detail: { verdict: 'approve' } }, sequence, `2026-11-24T06:00:0${sequence}.000Z`, previous),
    );
  }
  return entries;
}

describe('the audit chain', () => {
  it('verifies an untouched chain', () => {
    expect(verifyAuditChain(chain(5))).toBeUndefined();
  });

  it('detects an edited entry', () => {
    const entries = chain(5);
    entries[2] = { ...entries[2]!, actor: 'mallory' };
    expect(verifyAuditChain(entries)).toMatchObject({ sequence: 3, problem: expect.stringContaining('modified') });
  });

  it('detects a deleted entry', () => {
    const entries = chain(5);
    entries.splice(1, 1);
    expect(verifyAuditChain(entries)).toMatchObject({ sequence: 3, problem: expect.stringContaining('deleted') });
  });

  it('detects reordering, even with renumbered sequences', () => {
    const entries = chain(5);
    const swapped = [entries[0]!, { ...entries[2]!, sequence: 2 }, { ...entries[1]!, sequence: 3 }, ...entries.slice(3)];
    expect(verifyAuditChain(swapped)).toMatchObject({ sequence: 2 });
  });
});
