import { SignoffError } from '@signoff/core';
import type { CallHistory } from './call-history.js';
import { openPostgresCallHistory } from './postgres-call-history.js';
import { openSqliteCallHistory } from './sqlite-call-history.js';

/** Opens the call history beside the store a config names (`sqlite:<file>` or `postgres://…[?schema=name]`). */
export async function openCallHistory(url: string): Promise<CallHistory> {
  if (url.startsWith('sqlite:')) return openSqliteCallHistory(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    return openPostgresCallHistory({ connectionString: parsed.toString(), ...(schema ? { schema } : {}) });
  }
  throw new SignoffError('CONFIG_INVALID', `unknown store '${url}': expected sqlite:<file> or postgres://…`);
}
