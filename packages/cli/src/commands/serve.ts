import { loadPolicy } from '@signoff/core';
import { loadServerConfig, readableByOthers, startServer, unapprovableRules } from '@signoff/server';
import { UsageError, type CliIo } from '../cli-io.js';
import { parseCommand } from '../parse-command.js';

/**
 * `signoff serve --config signoff.yaml`: runs the control plane until SIGINT/SIGTERM, then stops
 * gracefully (in-flight requests finish, waiting clients get a retryable 503).
 */
export async function serve(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(argv, { config: { type: 'string', default: 'signoff.yaml' }, port: { type: 'string' } }, []);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65_536)) throw new UsageError('--port must be a port number');
  const config = loadServerConfig(values.config as string);
  const server = await startServer(config, port === undefined ? {} : { port });
  const database = config.store.startsWith('sqlite:') ? [config.store.slice('sqlite:'.length)] : [];
  for (const warning of readableByOthers([config.file, ...database])) io.err(`warning: ${warning}`);
  for (const warning of unapprovableRules(loadPolicy(config.policyFile), config.reviewers, config.apiKeys)) io.err(`warning: ${warning}`);
  io.out(`Signoff control plane listening on ${server.url}`);
  io.out(`  policy ${config.policyFile} · store ${config.store.replace(/\/\/[^@/]*@/, '//***@')} · ${config.reviewers.length} reviewers · ${config.apiKeys.length} API keys`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      io.out(`${signal}: stopping (waiting clients are told to retry)…`);
      server.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  io.out('stopped');
  return 0;
}
