import { existsSync, readFileSync } from 'node:fs';
import { createReviewerClient, type ApprovalRequest } from '@signoff/core';
import { UsageError, type CliIo } from '../cli-io.js';
import { parseCommand, parseJsonFlag } from '../parse-command.js';

const CONNECTION = {
  url: { type: 'string' },
  key: { type: 'string' },
  as: { type: 'string' },
  'keys-file': { type: 'string' },
} as const;

/**
 * `signoff approvals list|show|approve|deny`: the reviewer's terminal. Connects with `--url` (or
 * SIGNOFF_URL) and a reviewer key: `--key` (or SIGNOFF_API_KEY), or `--as <reviewer>` to take
 * that reviewer's key from SIGNOFF_KEY_<REVIEWER> or a keys file (`--keys-file`, default
 * `.signoff/reviewer-keys.json`, written by `pnpm demo`).
 */
export async function approvals(argv: readonly string[], io: CliIo): Promise<number> {
  const [action, ...rest] = argv;
  switch (action) {
    case 'list': {
      const { values } = parseCommand(rest, { ...CONNECTION, all: { type: 'boolean' }, status: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, order: { type: 'string' } }, []);
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 1_000)) throw new UsageError('--limit must be a whole number from 1 to 1000');
      const order = values.order as string | undefined;
      if (order !== undefined && order !== 'newest' && order !== 'deadline') throw new UsageError('--order must be newest or deadline');
      const { data: requests, nextCursor } = await reviewerFrom(values).listPage({
        ...(values.all || values.status ? (values.status ? { status: values.status as ApprovalRequest['status'] } : {}) : { actionable: true }),
        ...(limit ? { limit } : {}),
        ...(values.cursor ? { cursor: values.cursor as string } : {}),
        ...(order ? { order } : {}),
      });
      if (requests.length === 0) io.out(values.all || values.status ? 'no requests' : 'nothing waiting for you');
      for (const request of requests) io.out(summary(request));
      if (nextCursor) io.out(`more: add --cursor ${nextCursor}${order === 'deadline' ? ' --order deadline' : ''}`);
      return 0;
    }
    case 'show': {
      const { values, positionals } = parseCommand(rest, CONNECTION, ['id']);
      io.out(details(await reviewerFrom(values).get(positionals[0] as string)));
      return 0;
    }
    case 'approve':
    case 'deny': {
      const { values, positionals } = parseCommand(rest, { ...CONNECTION, comment: { type: 'string' }, args: { type: 'string' }, 'args-hash': { type: 'string' } }, ['id']);
      const edited = parseJsonFlag('args', values.args as string | undefined, undefined);
      if (edited !== undefined && action === 'deny') throw new UsageError('--args only goes with approve');
      const request = await reviewerFrom(values).decide(positionals[0] as string, action, {
        ...(values.comment ? { comment: values.comment as string } : {}),
        ...(edited !== undefined ? { args: edited } : {}),
        ...(values['args-hash'] ? { argsHash: values['args-hash'] as string } : {}),
      });
      io.out(`${action === 'approve' ? 'approved' : 'denied'} by you → request is ${request.status}: ${request.resolution}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown approvals command '${action ?? ''}': expected list, show, approve or deny`);
  }
}

function reviewerFrom(values: Readonly<Record<string, string | boolean | undefined>>) {
  const url = (values.url as string | undefined) ?? process.env.SIGNOFF_URL ?? 'http://127.0.0.1:8787';
  return createReviewerClient({ url, apiKey: keyFrom(values) });
}

function keyFrom(values: Readonly<Record<string, string | boolean | undefined>>): string {
  if (typeof values.key === 'string') return values.key;
  const reviewer = values.as as string | undefined;
  if (reviewer) {
    const fromEnv = process.env[`SIGNOFF_KEY_${reviewer.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`];
    if (fromEnv) return fromEnv;
    const file = (values['keys-file'] as string | undefined) ?? '.signoff/reviewer-keys.json';
    const keys = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
    const key = keys[reviewer];
    if (key) return key;
    throw new UsageError(`no key for reviewer '${reviewer}': set SIGNOFF_KEY_${reviewer.toUpperCase()} or add it to ${file}`);
  }
  if (process.env.SIGNOFF_API_KEY) return process.env.SIGNOFF_API_KEY;
  throw new UsageError('a reviewer key is needed: --key, --as <reviewer>, or SIGNOFF_API_KEY');
}

function summary(request: ApprovalRequest): string {
  const approvals = request.decisions.filter((decision) => decision.verdict === 'approve' && decision.argsHash === request.approvedArgsHash).length;
  const left = Math.max(0, Math.round((Date.parse(request.expiresAt) - Date.now()) / 60_000));
  const state = request.status === 'pending' ? `${approvals}/${request.requirements.requiredApprovals} approvals, ${left} min left` : request.status;
  return `${request.id}  ${request.tool}  ${state}  — ${request.reason}`;
}

function details(request: ApprovalRequest): string {
  const { requirements } = request;
  return [
    `${request.id}: ${request.tool} (${request.status}${request.granted ? ', granted' : ''})`,
    `reason:    ${request.reason}${request.ruleId ? ` [rule ${request.ruleId}]` : ''}`,
    `requester: ${request.requester}${request.onBehalfOf ? ` on behalf of ${request.onBehalfOf}` : ''}`,
    `needs:     ${requirements.requiredApprovals} approval(s)${requirements.approverRoles.length ? ` from ${requirements.approverRoles.join(', ')}` : ''}; deadline ${request.expiresAt}, then ${requirements.timeoutAction}`,
    `decisions: ${request.decisions.map((decision) => `${decision.reviewer} ${decision.verdict} via ${decision.channel}${decision.comment ? ` ("${decision.comment}")` : ''}`).join('; ') || 'none yet'}`,
    `resolution: ${request.resolution}`,
    'args:',
    JSON.stringify(request.args, null, 2).replace(/^/gm, '  '),
    ...(request.approvedArgsHash !== request.argsHash ? ['approved args (edited):', JSON.stringify(request.approvedArgs, null, 2).replace(/^/gm, '  ')] : []),
    ...(request.alsoRequired?.length ? [`also needs: ${request.alsoRequired.map((earlier) => `${earlier.requiredApprovals} from ${earlier.approverRoles.join(', ') || 'any reviewer'}`).join('; ')} (rules before an edit)`] : []),
    ...(request.execution ? [`executed:  claimed by ${request.execution.claimedBy} at ${request.execution.claimedAt}${request.execution.outcome ? `, ${request.execution.outcome}` : ''}`] : []),
    ...(request.status === 'pending' ? [`approve exactly these args: signoff approvals approve ${request.id} --args-hash ${request.approvedArgsHash}`] : []),
  ].join('\n');
}
