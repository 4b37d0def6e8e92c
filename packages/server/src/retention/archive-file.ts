import { createHash } from 'node:crypto';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditEntry } from '../audit/audit-event.js';
import type { StoredRequestState } from '../store/stored-request-state.js';

/** `signoff-archive-<from>-<to>-<run>.jsonl`: the range of audit entries it holds, and a random run id (replicas never share a name). */
const ARCHIVE_NAME = /^signoff-archive-(\d{12})-(\d{12})-([0-9a-f]{8})\.jsonl$/;

/** The first line of an archive file. */
export interface ArchiveHeader {
  readonly signoffArchive: 1;
  /** The audit entries it holds, in order: `from`..`to`. */
  readonly from: number;
  readonly to: number;
  readonly createdAt: string;
}

/** One line after the header: an audit entry (all of them first, in order), then a request row as it was stored. */
export type ArchiveLine = { readonly entry: AuditEntry } | { readonly request: StoredRequestState };

/**
 * The file name of an archive of entries `from`..`to`.
 *
 * @example
 * archiveFileName(1, 5000, 'a1b2c3d4'); // 'signoff-archive-000000000001-000000005000-a1b2c3d4.jsonl'
 */
export function archiveFileName(from: number, to: number, run: string): string {
  return `signoff-archive-${String(from).padStart(12, '0')}-${String(to).padStart(12, '0')}-${run}.jsonl`;
}

/** An archive file found in a directory. */
export interface ArchiveFile {
  readonly name: string;
  readonly path: string;
  readonly from: number;
  readonly to: number;
}

/**
 * The archive files that continue the hot log: a chain of ranges from entry 1 up to `liveStart - 1`.
 * Others are left over by runs that stopped before their commit (their rows were never deleted,
 * and a later run archived the same entries again): returned apart, never read.
 *
 * @example
 * const { chain, leftovers } = findArchiveChain('/var/lib/signoff/archive', await store.readAuditStart());
 */
export function findArchiveChain(directory: string, liveStart: number | undefined): { chain: ArchiveFile[]; leftovers: ArchiveFile[] } {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { chain: [], leftovers: [] };
    throw error;
  }
  const files = names.flatMap((name) => {
    const match = ARCHIVE_NAME.exec(name);
    return match ? [{ name, path: join(directory, name), from: Number(match[1]), to: Number(match[2]) }] : [];
  });
  // Depth-first over ranges: from 1, each file starting right after the one before, ending just before the hot log.
  const end = liveStart === undefined ? Number.POSITIVE_INFINITY : liveStart - 1;
  const walk = (from: number): ArchiveFile[] | undefined => {
    if (from - 1 === end) return [];
    for (const file of files.filter((candidate) => candidate.from === from && candidate.to <= end).sort((a, b) => b.to - a.to)) {
      const rest = walk(file.to + 1);
      if (rest) return [file, ...rest];
    }
    return undefined;
  };
  const chain = (liveStart === undefined ? undefined : walk(1)) ?? [];
  const used = new Set(chain.map((file) => file.name));
  return { chain, leftovers: files.filter((file) => !used.has(file.name)) };
}

/**
 * Reads an archive file line by line (bounded memory), hashing its bytes as it goes: yields the
 * header, then each line; `sha256()` is the file's hash once the lines are read.
 *
 * @example
 * const reader = readArchiveFile(file.path);
 * for await (const line of reader.lines) …;
 * reader.sha256();
 */
export function readArchiveFile(path: string): { lines: AsyncGenerator<ArchiveHeader | ArchiveLine>; sha256(): string } {
  const hash = createHash('sha256');
  let digest: string | undefined;
  async function* lines(): AsyncGenerator<ArchiveHeader | ArchiveLine> {
    const stream = createReadStream(path);
    stream.on('data', (chunk) => hash.update(chunk));
    for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (line.length > 0) yield JSON.parse(line) as ArchiveHeader | ArchiveLine;
    }
    digest = hash.digest('hex');
  }
  return {
    lines: lines(),
    sha256() {
      if (digest === undefined) throw new Error(`${path} was not read to its end`);
      return digest;
    },
  };
}
