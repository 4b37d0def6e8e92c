import { GENESIS_HASH } from '@signoff/server';
import type { CliIo } from '../cli-io.js';
import { openAuditStore, STORE_FLAGS } from '../open-audit-store.js';
import { parseCommand } from '../parse-command.js';

/**
 * `signoff audit head [--config signoff.yaml | --store URL] [--json]`: prints the chain head as
 * `<sequence>:<hash>` (what `audit verify --expect-head` takes), or as JSON with its time. Keep it
 * somewhere the database's owners cannot rewrite: it is what shows a later cut of the log.
 * An empty log prints `0:` and the genesis hash.
 */
export async function auditHead(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(argv, { ...STORE_FLAGS, json: { type: 'boolean' } }, []);
  const store = await openAuditStore(values);
  try {
    const head = (await store.readAuditHead()) ?? { sequence: 0, hash: GENESIS_HASH, at: undefined };
    io.out(values.json ? JSON.stringify(head) : `${head.sequence}:${head.hash}`);
    return 0;
  } finally {
    await store.close();
  }
}
