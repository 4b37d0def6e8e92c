import { canonicalJson } from '@signoff/core';
import { createHash } from 'node:crypto';
import type { AuditEntry, AuditEventInput } from './audit-event.js';

/** The `previousHash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Seals an event into the chain: its hash covers the event, its sequence, its time and the hash of
 * the entry before, so editing, deleting or reordering any entry breaks every hash after it.
 */
export function sealAuditEntry(event: AuditEventInput, sequence: number, at: string, previousHash: string): AuditEntry {
  const unsealed = { ...event, sequence, at, previousHash };
  return { ...unsealed, hash: hashEntry(unsealed) };
}

/** Where a chain stops verifying, and why. */
export interface AuditBreak {
  readonly sequence: number;
  readonly problem: string;
}

/**
 * Walks the log in sequence order and reports the first entry that does not verify: a changed
 * entry (its hash no longer matches), a deleted or reordered one (a gap in the sequence, or a
 * `previousHash` that is not the hash before it). `undefined` when the whole chain holds.
 *
 * @example
 * const broken = verifyAuditChain(await store.readAudit());
 * if (broken) console.error(`audit log broken at #${broken.sequence}: ${broken.problem}`);
 */
export function verifyAuditChain(entries: Iterable<AuditEntry>): AuditBreak | undefined {
  let previousHash = GENESIS_HASH;
  let expectedSequence = 1;
  for (const entry of entries) {
    if (entry.sequence !== expectedSequence) {
      return { sequence: entry.sequence, problem: `expected entry #${expectedSequence} here: an entry was deleted or reordered` };
    }
    if (entry.previousHash !== previousHash) {
      return { sequence: entry.sequence, problem: 'previousHash does not match the entry before: an entry was deleted, inserted or reordered' };
    }
    if (!entryHashMatches(entry)) {
      return { sequence: entry.sequence, problem: 'the entry was modified after it was written (its hash does not match its content)' };
    }
    previousHash = entry.hash;
    expectedSequence += 1;
  }
  return undefined;
}

/**
 * Whether an entry's `hash` still matches its content (it was not edited after it was written).
 * Checks the entry alone, not its place in the chain: {@link verifyAuditChain} does that.
 *
 * @example
 * if (!entryHashMatches(entry)) throw new Error(`audit entry #${entry.sequence} was modified`);
 */
export function entryHashMatches(entry: AuditEntry): boolean {
  const { hash, ...unsealed } = entry;
  return hashEntry(unsealed) === hash;
}

function hashEntry(unsealed: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(unsealed)).digest('hex');
}
