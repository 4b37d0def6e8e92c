import { createAuditChainVerifier } from '../audit/audit-chain.js';
import type { AuditEntry } from '../audit/audit-event.js';
import { compareRowsWithStates, compareRowWithState, noteState, stateWithoutRow, type NewestStates } from '../audit/compare-request-states.js';
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

/** Rows and index rows are read this many at a time. */
const PAGE = 5_000;

/**
 * Verifies the whole audit log a page (or line) at a time: the archive files in order, then the hot
 * log, as one hash chain from entry 1; each archive file must be the one a `retention.archived`
 * entry names (same sha256 and range); every request row, archived or live, must be the state its
 * newest state event committed to.
 *
 * Memory does not grow with the hot log or its rows: live rows are compared with their request's
 * newest state entry found through the database's index columns (`request_id`, `state_hash`), after
 * the chain pass checked those columns against every entry's hashed body (an entry whose columns
 * differ is reported, and its request replayed from the bodies). What stays in memory: the previous
 * hash, the states of one archive file's requests until its rows, and the states of requests whose
 * older entries were archived while their row stayed live (those in flight at an archive boundary).
 *
 * @example
 * const report = await verifyAuditLog({ store, archiveDirectory: './archive' });
 * if (report.problems.length) process.exitCode = 1;
 */
export async function verifyAuditLog(options: VerifyAuditLogOptions): Promise<AuditLogReport> {
  const { store, expectedHead } = options;
  const verifier = createAuditChainVerifier();
  // States read from archive files; after them, those of requests with no archived row (still live, or deleted).
  const newest: NewestStates = new Map();
  const problems: string[] = [];
  const namedArchives = new Map<string, { sha256: unknown; from: unknown; to: unknown }>();
  // Hot entries whose index columns differ from their body, as the body says (grows only with what is reported).
  const corrected = new Map<number, { requestId: string | undefined; stateHash: string | undefined }>();
  const replayed = new Set<string>();
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
      if ('entry' in item) {
        onEntry(item.entry);
        noteState(newest, item.entry);
      } else {
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
  // The hot log, with the index columns stored beside each entry: rows are compared through them below.
  for (let after = 0; ; ) {
    const page = await store.readAuditIndexPage(after, PAGE);
    for (const { entry, requestId, stateHash } of page) {
      onEntry(entry);
      if (requestId !== entry.requestId || stateHash !== entry.stateHash) {
        problems.push(`audit entry #${entry.sequence}: its request_id/state_hash columns (which reads of a request look up) differ from its body: changed outside Signoff`);
        corrected.set(entry.sequence, { requestId: entry.requestId, stateHash: entry.stateHash });
        for (const id of [requestId, entry.requestId]) if (id !== undefined) replayed.add(id);
      }
    }
    if (page.length < PAGE) break;
    after = (page.at(-1) as { entry: AuditEntry }).entry.sequence;
  }
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

  // Only entries the chain pass read count (a server writing meanwhile appends after them).
  const through = (last as AuditEntry | undefined)?.sequence ?? 0;
  const hotStart = liveStart ?? Number.POSITIVE_INFINITY;
  /** A request whose entries' columns were changed: its newest state from the bodies (its entries by the index, plus those whose body names it). */
  const replay = async (requestId: string) => {
    let found = newest.get(requestId);
    const consider = (sequence: number, body: { readonly requestId?: string | undefined; readonly stateHash?: string | undefined }) => {
      if (sequence >= hotStart && sequence <= through && body.requestId === requestId && body.stateHash !== undefined && (!found || sequence > found.sequence)) found = { sequence, stateHash: body.stateHash };
    };
    for (const entry of await store.readRequestAudit(requestId)) consider(entry.sequence, entry);
    for (const [sequence, body] of corrected) consider(sequence, body);
    return found;
  };

  // Rows a page at a time, each with its newest state as the index finds it (or, with none in the hot log, as archived).
  let liveRequests = 0;
  const replayedWithRow = new Set<string>();
  for (let afterId = ''; ; ) {
    const page = await store.readRequestStatesPage(afterId, PAGE, through);
    for (const row of page) {
      let logged = row.newestState ?? newest.get(row.id);
      if (replayed.has(row.id)) (logged = await replay(row.id), replayedWithRow.add(row.id));
      newest.delete(row.id);
      const mismatch = compareRowWithState(row, logged);
      if (mismatch) problems.push(`request ${mismatch.requestId} does not match the audit log: ${mismatch.problems.join('; ')}`);
    }
    liveRequests += page.length;
    if (page.length < PAGE) break;
    afterId = (page.at(-1) as { id: string }).id;
  }
  // States logged for requests that have no row: in the hot log (found by an anti-join), then only archived.
  const noRow = (requestId: string, sequence: number) => problems.push(`request ${requestId} does not match the audit log: ${stateWithoutRow(requestId, sequence).problems.join('; ')}`);
  for (let afterId = ''; ; ) {
    const page = await store.readStatesWithoutRows(afterId, PAGE, through);
    for (const { requestId, sequence } of page) {
      if (replayed.has(requestId)) continue;
      newest.delete(requestId);
      noRow(requestId, sequence);
    }
    if (page.length < PAGE) break;
    afterId = (page.at(-1) as { requestId: string }).requestId;
  }
  for (const [requestId, logged] of newest) if (!replayed.has(requestId)) noRow(requestId, logged.sequence);
  for (const requestId of replayed) {
    const logged = replayedWithRow.has(requestId) ? undefined : await replay(requestId);
    if (logged) noRow(requestId, logged.sequence);
  }
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
