import { SignoffError } from '@signoff/core';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** Opens the store a config names: `sqlite:<file>` (embedded default) or `postgres://…`. */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) return openSqliteStore(url.slice('sqlite:'.length));
  throw new SignoffError('CONFIG_INVALID', `store '${url}' is not supported yet: use sqlite:<file> (the PostgreSQL store is in progress)`);
}
