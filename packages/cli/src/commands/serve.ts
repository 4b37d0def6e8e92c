import { lintPolicy, loadPolicy } from '@signoff/core';
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
  const policy = loadPolicy(config.policyFile);
  for (const warning of unapprovableRules(policy, config.reviewers, config.apiKeys)) io.err(`warning: ${warning}`);
  // What `signoff policy check --config` would say, against this server's own history retention.
  for (const warning of lintPolicy(policy, { historyRetentionMs: config.historyRetentionMs })) {
    io.err(`${warning.file}:${warning.line}:${warning.column}: warning: ${warning.message} [${warning.code}]`);
  }
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
