import type { AuditEntry } from './audit-event.js';

/** The newest entry of the audit log: what an outside witness records to detect a later cut. */
export interface AuditHead {
  readonly sequence: number;
  readonly hash: string;
  /** When that entry was written. */
  readonly at: string;
}

/**
 * Checks a head recorded earlier against the log as it is now: the entry at that sequence must
 * still be there with that hash. The chain alone cannot show that its newest entries were cut;
 * a head kept elsewhere can. `undefined` when the log still holds it.
 *
 * @example
 * const problem = checkExpectedHead(await store.readAudit(), { sequence: 1042, hash: 'b5e1…' });
 * if (problem) console.error(problem);
 */
export function checkExpectedHead(entries: readonly AuditEntry[], expected: Pick<AuditHead, 'sequence' | 'hash'>): string | undefined {
  const entry = entries.find((candidate) => candidate.sequence === expected.sequence);
  const newest = entries.at(-1)?.sequence ?? 0;
  if (!entry) return `the log no longer contains the expected head #${expected.sequence} (it ends at #${newest}): entries were cut`;
  if (entry.hash !== expected.hash) return `entry #${expected.sequence} has hash ${entry.hash.slice(0, 16)}…, not the expected ${expected.hash.slice(0, 16)}…: the log was rewritten`;
  return undefined;
}
