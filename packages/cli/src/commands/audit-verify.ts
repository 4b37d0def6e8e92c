import { compareRowsWithStates, createAuditChainVerifier, noteState, readAuditPages, type AuditEntry, type NewestStates } from '@signoff/server';
import { UsageError, type CliIo } from '../cli-io.js';
import { openAuditStore, STORE_FLAGS } from '../open-audit-store.js';
import { parseCommand } from '../parse-command.js';

/**
 * `signoff audit verify [--config signoff.yaml | --store URL] [--expect-head <sequence>:<hash>]`:
 * checks the hash chain, replays it against every request row (each row must be the state its
 * newest state event committed to), and with `--expect-head` checks that the log still holds a
 * head recorded earlier (a cut of the newest entries shows only against such a head). Prints every
 * problem, naming the entry or the request, and exits 1.
 */
export async function auditVerify(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(argv, { ...STORE_FLAGS, 'expect-head': { type: 'string' } }, []);
  const expectedHead = values['expect-head'] === undefined ? undefined : parseExpectedHead(String(values['expect-head']));
  const store = await openAuditStore(values);
  try {
    // Read a page at a time: memory holds the previous hash and each request's newest state, never the whole log.
    const started = performance.now();
    const verifier = createAuditChainVerifier();
    const newest: NewestStates = new Map();
    let broken: string | undefined;
    let atExpected: AuditEntry | undefined;
    let last: AuditEntry | undefined;
    for await (const entry of readAuditPages(store)) {
      const problem = broken ? undefined : verifier.push(entry);
      if (problem) broken = `audit log BROKEN at entry #${problem.sequence}: ${problem.problem}`;
      if (expectedHead && entry.sequence === expectedHead.sequence) atExpected = entry;
      noteState(newest, entry);
      last = entry;
    }
    const seconds = (performance.now() - started) / 1000;
    const rows = await store.readRequestStates();
    const problems: string[] = broken ? [broken] : [];
    if (expectedHead) {
      const newestSequence = last?.sequence ?? 0;
      if (!atExpected) problems.push(`audit log CUT: the log no longer contains the expected head #${expectedHead.sequence} (it ends at #${newestSequence}): entries were cut`);
      else if (atExpected.hash !== expectedHead.hash) {
        problems.push(`audit log CUT: entry #${expectedHead.sequence} has hash ${atExpected.hash.slice(0, 16)}…, not the expected ${expectedHead.hash.slice(0, 16)}…: the log was rewritten`);
      }
    }
    for (const mismatch of compareRowsWithStates(newest, rows)) {
      problems.push(`request ${mismatch.requestId} does not match the audit log: ${mismatch.problems.join('; ')}`);
    }
    if (problems.length > 0) {
      for (const problem of problems) io.err(problem);
      return 1;
    }
    const count = verifier.verified;
    const rate = seconds > 0 ? Math.round(count / seconds) : count;
    io.out(
      `audit log verified: ${count} entries, chain head ${last ? `${last.sequence}:${last.hash.slice(0, 16)}…` : '(empty)'}; ` +
        `${rows.length} request${rows.length === 1 ? '' : 's'} match their logged state${expectedHead ? `; still holds head #${expectedHead.sequence}` : ''} ` +
        `(${seconds.toFixed(1)} s, ${rate.toLocaleString('en-US')} entries/s)`,
    );
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
