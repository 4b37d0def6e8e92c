import { existsSync } from 'node:fs';
import { parseDuration, replayPolicy, SignoffError, type RecordedCall } from '@signoff/core';
import { openCallHistory, storeUrlOf } from '@signoff/server';
import { UsageError, type CliIo } from '../cli-io.js';
import { STORE_FLAGS } from '../open-audit-store.js';
import { parseCommand } from '../parse-command.js';
import { readPolicyFile } from '../read-policy-file.js';

/** Why a history can be empty: a control plane records calls only while its policy needs them. */
const NOTHING_RECORDED =
  'Nothing recorded yet: the control plane records calls only while its policy has history conditions (window, after, not_after) or shadow rules (mode: shadow); add a shadow rule to record what a candidate needs.';

/**
 * `signoff policy replay <candidate.yaml> [--config signoff.yaml | --store URL] [--since 24h] [--json]`:
 * runs a candidate policy over the control plane's recorded call history and prints which past
 * decisions would flip (allow → escalate, escalate → deny, …), with counts and examples.
 */
export async function policyReplay(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(argv, { ...STORE_FLAGS, since: { type: 'string' }, json: { type: 'boolean' } }, ['candidate.yaml']);
  const sinceMs = values.since === undefined ? undefined : parseDuration(values.since);
  if (values.since !== undefined && sinceMs === undefined) throw new UsageError(`--since expects a duration like 24h or 7d, got '${String(values.since)}'`);
  const candidate = readPolicyFile(positionals[0] as string);
  const url = typeof values.store === 'string' ? values.store : storeUrlOf(typeof values.config === 'string' ? values.config : 'signoff.yaml');
  // Reading must not create an empty database where the history was expected.
  if (url.startsWith('sqlite:') && !existsSync(url.slice('sqlite:'.length))) throw new SignoffError('CONFIG_INVALID', `no database at ${url.slice('sqlite:'.length)}: nothing has been recorded there`);
  const history = await openCallHistory(url);
  const since = sinceMs === undefined ? 0 : Date.now() - sinceMs;
  const calls: RecordedCall[] = [];
  try {
    let after: { at: number; id: string } | undefined;
    for (;;) {
      const page = await history.list(since, { ...(after ? { after } : {}), limit: 1_000 });
      calls.push(...page);
      const last = page.at(-1);
      if (!last || page.length < 1_000) break;
      after = { at: last.at, id: last.id };
    }
  } finally {
    await history.close();
  }
  const report = await replayPolicy(candidate, calls);
  if (values.json) {
    io.out(JSON.stringify({ candidate: candidate.file, policyHash: candidate.hash, ...report }, null, 2));
    return 0;
  }
  const flipped = report.calls - report.unchanged;
  io.out(`Replayed ${report.calls} recorded call${report.calls === 1 ? '' : 's'} against ${candidate.file} (policy ${candidate.hash.slice(0, 12)}).`);
  io.out(`${report.unchanged} unchanged, ${flipped} would flip${flipped === 0 ? '.' : ':'}`);
  if (report.calls === 0) io.out(NOTHING_RECORDED);
  for (const flip of report.flips) {
    io.out(`  ${flip.from} → ${flip.to}: ${flip.count}`);
    for (const { call, ruleId } of flip.examples) {
      const was = call.ruleId === null ? 'the default' : `rule '${call.ruleId}'`;
      const now = ruleId === null ? 'the default' : `rule '${ruleId}'`;
      io.out(`    ${new Date(call.at).toISOString()} ${call.tool} ${clip(JSON.stringify(call.args))}${call.requester ? ` by ${call.requester}` : ''}: ${was} → ${now}`);
    }
  }
  return 0;
}

function clip(text: string | undefined): string {
  if (text === undefined) return '';
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
