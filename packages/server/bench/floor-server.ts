// The floors that `pnpm bench:server` measures creates and waiting clients against, in the same run and the same way
// (its own process, the same 50 keep-alive clients): bare `node:http`, one JSON parse, one insert.
//   sqlite:<file>        better-sqlite3, WAL, synchronous = NORMAL (the store's own settings)
//   postgres://…?schema=  one pooled `pg` INSERT (pool of 10, as the store's default)
// It skips what a real control plane may not: auth, validation, the transition's audit entry, outbox, notify.
// Prints `listening <url>` like run-server.ts, so spawnServer starts it.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

const target = process.argv[2] as string;
const insert = target.startsWith('sqlite:') ? await openSqlite(target.slice('sqlite:'.length)) : await openPostgres(target);

// Long-polls (the RSS floor): held open, unanswered, until the process stops; /metrics counts them.
const held = new Set<http.ServerResponse>();

const server = http.createServer((request, response) => {
  if (request.method === 'GET') {
    if (request.url === '/metrics') response.end(`signoff_waiting_clients ${held.size}\n`);
    else {
      held.add(response);
      response.on('close', () => held.delete(response));
    }
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let body: { tool?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { tool?: unknown };
    } catch {
      response.writeHead(400).end();
      return;
    }
    const id = randomUUID();
    insert(id, String(body.tool), JSON.stringify(body)).then(
      () => response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id, status: 'pending' })),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => {
  for (const response of held) response.writeHead(503, { 'retry-after': '1' }).end();
  server.close(() => process.exit(0));
});

type Insert = (id: string, tool: string, body: string) => Promise<void>;

async function openSqlite(file: string): Promise<Insert> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS floor (id TEXT PRIMARY KEY, tool TEXT NOT NULL, body TEXT NOT NULL)');
  const statement = db.prepare('INSERT INTO floor (id, tool, body) VALUES (?, ?, ?)');
  return (id, tool, body) => {
    statement.run(id, tool, body);
    return Promise.resolve();
  };
}

async function openPostgres(url: string): Promise<Insert> {
  const { default: pg } = await import('pg');
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  parsed.searchParams.delete('schema');
  const pool = new pg.Pool({ connectionString: parsed.toString(), max: 10 });
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}".floor (id TEXT PRIMARY KEY, tool TEXT NOT NULL, body JSONB NOT NULL)`);
  const text = `INSERT INTO "${schema}".floor (id, tool, body) VALUES ($1, $2, $3)`;
  return async (id, tool, body) => {
    await pool.query(text, [id, tool, body]);
  };
}
