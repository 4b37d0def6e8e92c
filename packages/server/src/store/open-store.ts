import { SignoffError } from '@signoff/core';
import { createPrivateFile } from '../config/private-files.js';
import { openPostgresStore } from './postgres-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** Opens the store a config names: `sqlite:<file>` (embedded default) or `postgres://…[?schema=name]` (several replicas). */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    // A new database is private to its owner (approvals, args, key names); an existing one keeps its mode (serve warns).
    if (file !== ':memory:') createPrivateFile(file);
    return openSqliteStore(file);
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // `?schema=name` keeps Signoff's tables in their own schema (created if missing).
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    return openPostgresStore({ connectionString: parsed.toString(), ...(schema ? { schema } : {}) });
  }
  throw new SignoffError('CONFIG_INVALID', `unknown store '${url}': expected sqlite:<file> or postgres://…`);
}
