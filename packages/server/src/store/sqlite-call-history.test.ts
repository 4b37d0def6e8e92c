import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { describeCallHistoryContract } from './call-history.contract.js';
import { openSqliteCallHistory } from './sqlite-call-history.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-history-'));
let files = 0;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describeCallHistoryContract('SQLite', async () => openSqliteCallHistory(join(directory, `history-${(files += 1)}.db`)));
