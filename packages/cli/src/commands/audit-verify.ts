import { archiveDirOf, verifyAuditLog } from '@signoff/server';
import { UsageError, type CliIo } from '../cli-io.js';
import { openAuditStore, STORE_FLAGS } from '../open-audit-store.js';
import { parseCommand } from '../parse-command.js';

/**
 * `signoff audit verify [--config signoff.yaml | --store URL] [--archive-dir DIR] [--expect-head <sequence>:<hash>]`:
 * checks the hash chain — archived entries first (`retention.archive_dir` of the config, or
 * `--archive-dir`), then the hot log, as one chain — replays it against every request row, archived
 * or live (each row must be the state its newest state event committed to), checks each archive file
 * against the `retention.archived` entry that names it, and with `--expect-head` checks that the log
 * still holds a head recorded earlier (a cut of the newest entries shows only against such a head).
 * Prints every problem, naming the entry, file or request, and exits 1.
 */
export async function auditVerify(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(argv, { ...STORE_FLAGS, 'expect-head': { type: 'string' }, 'archive-dir': { type: 'string' } }, []);
  const expectedHead = values['expect-head'] === undefined ? undefined : parseExpectedHead(String(values['expect-head']));
  const archiveDirectory =
    typeof values['archive-dir'] === 'string' ? values['archive-dir'] : typeof values.store === 'string' ? undefined : archiveDirOf(typeof values.config === 'string' ? values.config : 'signoff.yaml');
  const store = await openAuditStore(values);
  try {
    // Read a page (or line) at a time; rows are compared with the log through the store's index, so memory does not grow with it.
    const started = performance.now();
    const report = await verifyAuditLog({ store, ...(archiveDirectory === undefined ? {} : { archiveDirectory }), ...(expectedHead ? { expectedHead } : {}) });
    const seconds = (performance.now() - started) / 1000;
    if (report.problems.length > 0) {
      for (const problem of report.problems) io.err(problem);
      return 1;
    }
    const count = report.verified;
    const rate = seconds > 0 ? Math.round(count / seconds) : count;
    const rows = report.liveRequests;
    const last = report.head;
    const archived = report.archiveFiles.length > 0 ? ` (${report.archiveFiles.length} archive file${report.archiveFiles.length === 1 ? '' : 's'} with ${report.archivedRequests} archived request${report.archivedRequests === 1 ? '' : 's'}, then the hot log)` : '';
    io.out(
      `audit log verified: ${count} entries${archived}, chain head ${last ? `${last.sequence}:${last.hash.slice(0, 16)}…` : '(empty)'}; ` +
        `${rows} request${rows === 1 ? '' : 's'} match their logged state${expectedHead ? `; still holds head #${expectedHead.sequence}` : ''} ` +
        `(${seconds.toFixed(1)} s, ${rate.toLocaleString('en-US')} entries/s)`,
    );
    if (report.leftovers.length > 0) io.out(`not read: ${report.leftovers.join(', ')} (written by a retention run that stopped before its commit; safe to delete)`);
    return 0;
  } finally {
    await store.close();
  }
}

/** `<sequence>:<hash>`, as `signoff audit head` prints it. */
function parseExpectedHead(text: string): { sequence: number; hash: string } {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text.trim());
  if (!match) throw new UsageError(`--expect-head takes <sequence>:<sha256 hex>, as \`signoff audit head\` prints it; got '${text}'`);
  return { sequence: Number(match[1]), hash: match[2] as string };
}
