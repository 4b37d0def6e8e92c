import { canonicalJson } from '@signoff/core';
import { hash as oneShotHash } from 'node:crypto';
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
  const verifier = createAuditChainVerifier();
  for (const entry of entries) {
    const broken = verifier.push(entry);
    if (broken) return broken;
  }
  return undefined;
}

/**
 * The same check one entry at a time, for logs read a page at a time (`signoff audit verify` on
 * millions of entries keeps only the previous hash in memory).
 *
 * @example
 * const verifier = createAuditChainVerifier();
 * for await (const entry of readAuditPages(store)) if (verifier.push(entry)) break;
 */
export function createAuditChainVerifier() {
  let previousHash = GENESIS_HASH;
  let expectedSequence = 1;
  return {
    /** Checks the next entry; the first break found, or `undefined` while the chain holds. */
    push(entry: AuditEntry): AuditBreak | undefined {
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
      return undefined;
    },
    /** How many entries verified so far. */
    get verified(): number {
      return expectedSequence - 1;
    },
  };
}

/**
 * Every entry of a store's log, read `pageSize` at a time: memory stays bounded however long the log.
 *
 * @example
 * for await (const entry of readAuditPages(store)) count += 1;
 */
export async function* readAuditPages(store: { readAuditPage(after: number, limit: number): Promise<AuditEntry[]> }, pageSize = 5_000): AsyncGenerator<AuditEntry> {
  let after = 0;
  for (;;) {
    const page = await store.readAuditPage(after, pageSize);
    yield* page;
    const last = page.at(-1);
    if (page.length < pageSize || !last) return;
    after = last.sequence;
  }
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
  return oneShotHash('sha256', canonicalJson(unsealed), 'hex');
}
