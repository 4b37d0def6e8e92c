import { createAuditChainVerifier, readAuditPages } from '../audit/audit-chain.js';
import type { AuditEntry } from '../audit/audit-event.js';
import { compareRowsWithStates, noteState, type NewestStates } from '../audit/compare-request-states.js';
import type { Store } from '../store/store.js';
import { findArchiveChain, readArchiveFile, type ArchiveHeader, type ArchiveLine } from './archive-file.js';

export interface VerifyAuditLogOptions {
  readonly store: Store;
  /** Where retention archived older entries and requests (`retention.archive_dir`); read first, then the hot log. */
  readonly archiveDirectory?: string;
  /** A head recorded earlier (`signoff audit head`): the log must still hold it. */
  readonly expectedHead?: { readonly sequence: number; readonly hash: string };
}

/** What `verifyAuditLog` found: every problem (empty when all holds) and what it checked. */
export interface AuditLogReport {
  readonly problems: readonly string[];
  /** Entries verified in one chain, archives and hot log together. */
  readonly verified: number;
  readonly head: AuditEntry | undefined;
  /** Request rows compared with their logged state: archived and live. */
  readonly archivedRequests: number;
  readonly liveRequests: number;
  readonly archiveFiles: readonly string[];
  /** Archive files no committed run wrote (a run stopped before its commit): not read. */
  readonly leftovers: readonly string[];
}

/**
 * Verifies the whole audit log a page (or line) at a time: the archive files in order, then the hot
 * log, as one hash chain from entry 1; each archive file must be the one a `retention.archived`
 * entry names (same sha256 and range); every request row, archived or live, must be the state its
 * newest state event committed to. Memory holds the previous hash and each request's newest state.
 *
 * @example
 * const report = await verifyAuditLog({ store, archiveDirectory: './archive' });
 * if (report.problems.length) process.exitCode = 1;
 */
export async function verifyAuditLog(options: VerifyAuditLogOptions): Promise<AuditLogReport> {
  const { store, expectedHead } = options;
  const verifier = createAuditChainVerifier();
  const newest: NewestStates = new Map();
  const problems: string[] = [];
  const namedArchives = new Map<string, { sha256: unknown; from: unknown; to: unknown }>();
  let broken = false;
  let atExpected: AuditEntry | undefined;
  let last: AuditEntry | undefined;
  const onEntry = (entry: AuditEntry) => {
    const problem = broken ? undefined : verifier.push(entry);
    if (problem) {
      broken = true;
      problems.push(`audit log BROKEN at entry #${problem.sequence}: ${problem.problem}`);
    }
    if (expectedHead && entry.sequence === expectedHead.sequence) atExpected = entry;
    if (entry.type === 'retention.archived' && typeof entry.detail.file === 'string') namedArchives.set(entry.detail.file, { sha256: entry.detail.sha256, from: entry.detail.from, to: entry.detail.to });
    noteState(newest, entry);
    last = entry;
  };

  const liveStart = await store.readAuditStart();
  const { chain, leftovers } = options.archiveDirectory === undefined ? { chain: [], leftovers: [] } : findArchiveChain(options.archiveDirectory, liveStart);
  if (liveStart !== undefined && liveStart > 1 && chain.length === 0) {
    problems.push(
      options.archiveDirectory === undefined
        ? `the hot log starts at entry #${liveStart}: entries 1..${liveStart - 1} were archived (or cut) — pass the archive directory (retention.archive_dir) to verify them`
        : `the hot log starts at entry #${liveStart}, but ${options.archiveDirectory} holds no archive files continuing it from entry 1: archives were removed or the log was cut`,
    );
    broken = true;
  }
  let archivedRequests = 0;
  const archived: { name: string; sha256: string; from: number; to: number }[] = [];
  for (const file of chain) {
    const reader = readArchiveFile(file.path);
    let header: ArchiveHeader | undefined;
    for await (const line of reader.lines) {
      if (!header) {
        header = line as ArchiveHeader;
        if (header.signoffArchive !== 1 || header.from !== file.from || header.to !== file.to) problems.push(`archive ${file.name}: its header does not match its name`);
        continue;
      }
      const item = line as ArchiveLine;
      if ('entry' in item) onEntry(item.entry);
      else {
        // Every state event of an archived request precedes its row in the file: compare now, then forget it.
        const logged = newest.get(item.request.id);
        for (const mismatch of compareRowsWithStates(new Map(logged ? [[item.request.id, logged]] : []), [item.request])) {
          problems.push(`archived request ${mismatch.requestId} (${file.name}) does not match the audit log: ${mismatch.problems.join('; ')}`);
        }
        newest.delete(item.request.id);
        archivedRequests += 1;
      }
    }
    archived.push({ name: file.name, sha256: reader.sha256(), from: file.from, to: file.to });
  }
  for await (const entry of readAuditPages(store)) onEntry(entry);
  for (const file of archived) {
    const named = namedArchives.get(file.name);
    if (!named) problems.push(`archive ${file.name} is not named by any retention.archived entry: it is not the file retention wrote`);
    else if (named.sha256 !== file.sha256 || named.from !== file.from || named.to !== file.to) problems.push(`archive ${file.name} was changed after it was written: its sha256 or range differs from the retention.archived entry`);
  }

  if (expectedHead) {
    const newestSequence = (last as AuditEntry | undefined)?.sequence ?? 0;
    if (!atExpected) problems.push(`audit log CUT: the log no longer contains the expected head #${expectedHead.sequence} (it ends at #${newestSequence}): entries were cut`);
    else if (atExpected.hash !== expectedHead.hash) {
      problems.push(`audit log CUT: entry #${expectedHead.sequence} has hash ${atExpected.hash.slice(0, 16)}…, not the expected ${expectedHead.hash.slice(0, 16)}…: the log was rewritten`);
    }
  }
  // Rows a page at a time: each is compared with its newest state, which is then forgotten, so what
  // is left at the end are states logged for requests that have no row.
  let liveRequests = 0;
  for (let afterId = ''; ; ) {
    const page = await store.readRequestStatesPage(afterId, 5_000);
    const logged: NewestStates = new Map();
    for (const row of page) {
      const state = newest.get(row.id);
      if (state) logged.set(row.id, state);
      newest.delete(row.id);
    }
    for (const mismatch of compareRowsWithStates(logged, page)) problems.push(`request ${mismatch.requestId} does not match the audit log: ${mismatch.problems.join('; ')}`);
    liveRequests += page.length;
    if (page.length < 5_000) break;
    afterId = (page.at(-1) as { id: string }).id;
  }
  for (const mismatch of compareRowsWithStates(newest, [])) problems.push(`request ${mismatch.requestId} does not match the audit log: ${mismatch.problems.join('; ')}`);
  return {
    problems,
    verified: verifier.verified,
    head: last,
    archivedRequests,
    liveRequests,
    archiveFiles: archived.map((file) => file.name),
    leftovers: leftovers.map((file) => file.name),
  };
}
