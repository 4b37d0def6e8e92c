import { openStore, storeUrlOf, type Store } from '@signoff/server';

/** The flags that say which store the audit commands read. */
export const STORE_FLAGS = { config: { type: 'string' }, store: { type: 'string' } } as const;

/** Opens the store named by `--store URL`, or by the config file (`--config`, default `signoff.yaml`). */
export async function openAuditStore(values: { readonly config?: string | boolean | undefined; readonly store?: string | boolean | undefined }): Promise<Store> {
  // Only the store: an auditor needs no agent or reviewer secrets to verify the log.
  const url = typeof values.store === 'string' ? values.store : storeUrlOf(typeof values.config === 'string' ? values.config : 'signoff.yaml');
  return openStore(url);
}
