import { loadServerConfig, openStore, verifyAuditChain } from '@signoff/server';
import type { CliIo } from '../cli-io.js';
import { parseCommand } from '../parse-command.js';

/** `signoff audit verify [--config signoff.yaml | --store URL]`: exit 1, naming the entry, when the log was tampered with. */
export async function auditVerify(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(argv, { config: { type: 'string' }, store: { type: 'string' } }, []);
  const storeUrl = (values.store as string | undefined) ?? loadServerConfig((values.config as string | undefined) ?? 'signoff.yaml').store;
  const store = await openStore(storeUrl);
  try {
    const entries = await store.readAudit();
    const broken = verifyAuditChain(entries);
    if (broken) {
      io.err(`audit log BROKEN at entry #${broken.sequence}: ${broken.problem}`);
      return 1;
    }
    io.out(`audit log verified: ${entries.length} entries, chain head ${entries.at(-1)?.hash.slice(0, 16) ?? '(empty)'}`);
    return 0;
  } finally {
    await store.close();
  }
}
