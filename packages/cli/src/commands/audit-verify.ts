import { checkExpectedHead, compareRequestStates, verifyAuditChain } from '@signoff/server';
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
    const entries = await store.readAudit();
    const rows = await store.readRequestStates();
    const problems: string[] = [];
    const broken = verifyAuditChain(entries);
    if (broken) problems.push(`audit log BROKEN at entry #${broken.sequence}: ${broken.problem}`);
    const cut = expectedHead && checkExpectedHead(entries, expectedHead);
    if (cut) problems.push(`audit log CUT: ${cut}`);
    for (const mismatch of compareRequestStates(entries, rows)) {
      problems.push(`request ${mismatch.requestId} does not match the audit log: ${mismatch.problems.join('; ')}`);
    }
    if (problems.length > 0) {
      for (const problem of problems) io.err(problem);
      return 1;
    }
    const head = entries.at(-1);
    io.out(
      `audit log verified: ${entries.length} entries, chain head ${head ? `${head.sequence}:${head.hash.slice(0, 16)}…` : '(empty)'}; ` +
        `${rows.length} request${rows.length === 1 ? '' : 's'} match their logged state${expectedHead ? `; still holds head #${expectedHead.sequence}` : ''}`,
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
