import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Lease, Store } from '../store/store.js';
import { archiveFileName, findArchiveChain, type ArchiveHeader, type ArchiveLine } from './archive-file.js';

export interface ArchiveResolvedOptions {
  readonly store: Store;
  /** Where archive files go (created 0700 if missing). */
  readonly directory: string;
  /** Resolved requests older than this (and whose grant can no longer be used) leave the hot tables. */
  readonly resolvedAfterMs: number;
  readonly now?: Date;
  /** At most this many requests leave in one run (default 10,000): a backlog drains over several bounded runs. */
  readonly maxRequests?: number;
  /** How long the run's lease lasts unless renewed (default 10 minutes; renewed after each page read). */
  readonly leaseMs?: number;
}

/** What one run archived. */
export interface ArchiveResult {
  readonly file: string;
  readonly sha256: string;
  readonly from: number;
  readonly to: number;
  readonly requests: number;
}

const PAGE = 5_000;
const FLUSH_BYTES = 1 << 20;
const DEFAULT_MAX_REQUESTS = 10_000;
const DEFAULT_LEASE_MS = 10 * 60_000;
const LEASE = 'retention';

/** The run no longer holds the retention lease (another replica took it over after it lapsed). */
class LeaseLost extends Error {}

/**
 * One retention run, under the store's `retention` lease so replicas sharing a database take turns
 * (`undefined` at once while another holds it): writes the oldest audit entries and the resolved
 * requests they hold to a JSON Lines file, fsyncs it (and its directory) under its final name, and
 * only then, in one transaction, deletes them from the hot tables and appends `retention.archived`
 * naming the file, its sha256 and the range. A crash before that commit leaves every row in place and a file that
 * no entry names (`signoff audit verify` ignores it; nothing is lost or doubled); a row that
 * changed meanwhile, or a lease lost meanwhile, makes the commit refuse, and the run removes its own
 * file. At most `maxRequests` leave per run. `undefined` when nothing can go yet.
 *
 * @example
 * await archiveResolved({ store, directory: '/var/lib/signoff/archive', resolvedAfterMs: 90 * 86_400_000 });
 */
export async function archiveResolved(options: ArchiveResolvedOptions): Promise<ArchiveResult | undefined> {
  const lease = { name: LEASE, holder: `run-${randomBytes(8).toString('hex')}`, ttlMs: options.leaseMs ?? DEFAULT_LEASE_MS };
  if (!(await options.store.acquireLease(lease))) return undefined;
  try {
    return await archiveUnderLease(options, lease);
  } catch (error) {
    if (error instanceof LeaseLost) return undefined;
    throw error;
  } finally {
    await options.store.releaseLease(lease.name, lease.holder);
  }
}

async function archiveUnderLease(options: ArchiveResolvedOptions, lease: Lease): Promise<ArchiveResult | undefined> {
  const { store, directory } = options;
  const now = options.now ?? new Date();
  const planned = await store.planArchive(new Date(now.getTime() - options.resolvedAfterMs), { maxRequests: options.maxRequests ?? DEFAULT_MAX_REQUESTS });
  if (!planned) return undefined;
  const plan = { ...planned, lease: { name: lease.name, holder: lease.holder } };
  const renew = async () => {
    if (!(await store.acquireLease(lease))) throw new LeaseLost();
  };
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  // Files a run wrote but never committed (it stopped first) start at or after the hot log's start:
  // their entries are still in the log and their rows in the tables. The lease means no other run
  // (on any replica sharing this directory) is writing one now.
  const { leftovers } = findArchiveChain(directory, plan.from);
  for (const leftover of leftovers) if (leftover.from >= plan.from) rmSync(leftover.path, { force: true });
  for (const name of readdirSync(directory)) if (name.startsWith('signoff-archive-') && name.endsWith('.jsonl.tmp')) rmSync(join(directory, name), { force: true });
  const file = archiveFileName(plan.from, plan.to, randomBytes(4).toString('hex'));
  const path = join(directory, file);
  const temporary = `${path}.tmp`;
  const hash = createHash('sha256');
  const rows: { id: string; auditSequence: number | undefined }[] = [];
  const descriptor = openSync(temporary, 'w', 0o600);
  try {
    let buffer = '';
    const write = (line: ArchiveHeader | ArchiveLine, force = false) => {
      buffer += `${JSON.stringify(line)}\n`;
      if (buffer.length < FLUSH_BYTES && !force) return;
      hash.update(buffer);
      writeSync(descriptor, buffer);
      buffer = '';
    };
    write({ signoffArchive: 1, from: plan.from, to: plan.to, createdAt: now.toISOString() });
    for (let after = plan.from - 1; after < plan.to; ) {
      const page = await store.readAuditPage(after, Math.min(PAGE, plan.to - after));
      if (page.length === 0) throw new Error(`audit entries after #${after} disappeared while archiving`);
      for (const entry of page) write({ entry });
      after = (page.at(-1) as { sequence: number }).sequence;
      await renew();
    }
    for (let afterId = ''; ; ) {
      const page = await store.readArchivableRows(plan, afterId, PAGE);
      for (const request of page) {
        write({ request });
        rows.push({ id: request.id, auditSequence: request.auditSequence });
      }
      await renew();
      if (page.length < PAGE) break;
      afterId = (page.at(-1) as { id: string }).id;
    }
    if (buffer) (hash.update(buffer), writeSync(descriptor, buffer));
    // On disk before any row is deleted: the file, then its name.
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(descriptor);
  renameSync(temporary, path);
  const directoryHandle = openSync(directory, 'r');
  try {
    fsyncSync(directoryHandle);
  } finally {
    closeSync(directoryHandle);
  }
  const sha256 = hash.digest('hex');
  const committed = await store.commitArchive(plan, rows, {
    type: 'retention.archived',
    actor: 'system',
    channel: 'system',
    detail: { file, sha256, from: plan.from, to: plan.to, requests: rows.length, resolvedBefore: plan.cutoff.toISOString() },
  });
  if (!committed) {
    rmSync(path, { force: true }); // ours alone (the run id is in its name); the next run tries again
    return undefined;
  }
  return { file, sha256, from: plan.from, to: plan.to, requests: rows.length };
}
