import { formatPolicyIssue, PolicyError, SignoffError } from '@signoff/core';
import { MCP_USAGE, mcp } from './commands/mcp.js';
import { exitQuietlyOnBrokenPipe, processIo, UsageError, type CliIo } from './cli-io.js';
import { policyCheck } from './commands/policy-check.js';
import { policyExplain } from './commands/policy-explain.js';
import { policyTest } from './commands/policy-test.js';
import { policyReplay } from './commands/policy-replay.js';
import { approvals } from './commands/approvals.js';
import { auditHead } from './commands/audit-head.js';
import { auditVerify } from './commands/audit-verify.js';
import { serve } from './commands/serve.js';

const USAGE = `Usage: signoff <command>

Commands:
  policy check <policy.yaml> [--config signoff.yaml] [--strict]
      Validate a policy; print its summary and lint warnings (--strict: warnings fail too).
  policy explain <policy.yaml> --tool <name> [--args '<json>'] [--context '<json>'] [--json]
      Decide one tool call and show which rule and condition decided it.
  policy test <policy.yaml> <cases.yaml>
      Check a policy against expected decisions; exit 1 when any case fails.
  policy replay <candidate.yaml> [--config signoff.yaml | --store URL] [--since 24h] [--json]
      Run a candidate policy over the control plane's recorded calls; print the decisions that would flip.

  serve [--config signoff.yaml] [--port N]
      Run the control plane until SIGINT/SIGTERM.
  approvals list [--all | --status S] [--order newest|deadline] [--limit N] [--cursor C] | show <id> | approve <id> [--comment C] [--args JSON] [--args-hash H] | deny <id> [--comment C]
      Review from a terminal. Connect with --url (or SIGNOFF_URL) and --key (or SIGNOFF_API_KEY),
      or --as <reviewer> (key from SIGNOFF_KEY_<REVIEWER> or --keys-file, default .signoff/reviewer-keys.json).
${MCP_USAGE}
  audit verify [--config signoff.yaml | --store URL] [--archive-dir DIR] [--expect-head <sequence>:<hash>]
      Check the hash-chained audit log and that every request row is its newest logged state;
      with --expect-head, that the log still holds a head recorded earlier. Exit 1 naming each problem.
  audit head [--config signoff.yaml | --store URL] [--json]
      Print the chain head as <sequence>:<hash>; record it elsewhere to detect a later cut.

Exit codes: 0 ok, 1 failed (invalid policy or config, failing case, --strict warning, audit log that does not verify), 2 usage error.`;

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number> | number> = {
  'policy check': policyCheck,
  'policy explain': policyExplain,
  'policy test': policyTest,
  'policy replay': policyReplay,
  'serve ': serve,
  'audit verify': auditVerify,
  'audit head': auditHead,
  'approvals ': approvals,
};

/**
 * Runs the `signoff` command with its arguments and returns the exit code.
 *
 * @example
 * process.exitCode = await main(['policy', 'check', 'signoff.policy.yaml']);
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  if (io === processIo) exitQuietlyOnBrokenPipe();
  const [group, name, ...rest] = argv;
  // `signoff mcp …` is the proxy's own command line (its --help included, and whatever follows `--` is the upstream's).
  if (group === 'mcp') return mcp(argv.slice(1), io);
  const ours = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (group === undefined || group === 'help' || ours.includes('--help') || ours.includes('-h')) {
    io.out(USAGE);
    return group === undefined ? 2 : 0;
  }
  // `serve` and `approvals` parse what follows them themselves.
  const key = group === 'serve' || group === 'approvals' ? `${group} ` : `${group} ${name ?? ''}`;
  const args = group === 'serve' || group === 'approvals' ? argv.slice(1) : rest;
  const command = COMMANDS[key];
  try {
    if (!command) throw new UsageError(`unknown command '${[group, name].filter(Boolean).join(' ')}'`);
    return await command(args, io);
  } catch (error) {
    return reportFailure(error, io);
  }
}

/** The one place the CLI turns an error into output and an exit code. */
function reportFailure(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    io.err(`signoff: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (PolicyError.isInstance(error)) {
    for (const issue of error.issues) io.err(`${formatPolicyIssue(issue)}`);
    io.err(`${error.issues.length} error${error.issues.length === 1 ? '' : 's'}; the policy was not loaded`);
    return 1;
  }
  if (SignoffError.isInstance(error)) {
    io.err(`signoff: ${error.message}`);
    return 1;
  }
  throw error;
}
