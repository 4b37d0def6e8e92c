import type { ApprovalRequest, Policy } from '@signoff/core';
import { limitBody } from '../../http/limit-body.js';
import type { WebClient } from '@slack/web-api';
import type { Hono } from 'hono';
import * as z from 'zod';
import type { ApprovalService } from '../../approval-service.js';
import type { Reviewer } from '../../engine/reviewer.js';
import { apiError } from '../../http/api-error.js';
import type { NoticeOutboxMessage, RequestOutboxMessage } from '../../store/outbox-message.js';
import { budgetNoticeText } from '../budget-notice-text.js';
import { ARGS_NOT_SHOWN, argsNotShown } from '../args-not-shown.js';
import type { Channel } from '../channel.js';
import { createTestedPathsLookup } from '../create-tested-paths-lookup.js';
import { reviewElsewhere } from '../review-elsewhere.js';
import { ACTIONS_BLOCK_PREFIX, APPROVE_ACTION, composeSlackMessage, DENY_ACTION, escapeMrkdwn, slackShowsArgsWhole } from './compose-slack-message.js';
import { verifySlackSignature } from './verify-slack-signature.js';
import { summarizeRequest } from '../email/summarize-request.js';

export interface SlackChannelOptions {
  /** The bot token (`xoxb-…`); needs `chat:write` and `channels:history` (`groups:history` for a private channel). */
  readonly botToken: string;
  /** The app's signing secret: interactions that do not carry its signature are refused. */
  readonly signingSecret: string;
  /** The ID (not the name) of the channel approvals are posted in, e.g. `C0123456789`. The bot must be a member. */
  readonly channel: string;
  /** Web API base URL (default `https://slack.com/api/`); tests point it at a local fake. */
  readonly apiUrl?: string;
  /** The workspace (`T…`) clicks must come from; default: the bot token's own, asked once with `auth.test`. */
  readonly teamId?: string;
  /** The configured reviewers; a click counts only from a reviewer whose `slackUserId` matches. */
  readonly reviewers: readonly Reviewer[];
  /** Reviewers who own each agent principal (not asked to approve its requests). */
  readonly ownersOf?: (agent: string) => readonly string[];
  /** Per-call timeout of Slack API calls (default 10 s). */
  readonly timeoutMs?: number;
  /** The server's policy: the args its deciding rule tested are shown first. */
  readonly policy?: Policy;
  /** The server's public URL when it serves the inbox: args too long for a message link to the request's inbox page. */
  readonly inboxBaseUrl?: string;
  readonly now?: () => Date;
}

/** The interactivity endpoint: set it as the app's Request URL (`<public_url>/v1/slack/interactions`). */
export const SLACK_INTERACTIONS_PATH = '/v1/slack/interactions';
const METADATA_EVENT = 'signoff_approval';
const APPROVAL_ID = /^apr_[\w-]{10,40}$/;
/** How far back, in pages of 200, a resolution looks for the message it updates. */
const HISTORY_PAGES = 25;

/** The part of Slack's `block_actions` payload this channel reads. */
const BlockActions = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string() }),
  team: z.object({ id: z.string() }).nullish(),
  message: z.object({ ts: z.string().optional(), metadata: z.object({ event_type: z.string().optional(), event_payload: z.object({ approval_id: z.unknown() }).partial().optional() }).partial().optional() }).optional(),
  channel: z.object({ id: z.string() }).optional(),
  container: z.object({ message_ts: z.string().optional(), channel_id: z.string().optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), block_id: z.string().optional(), value: z.string().optional() })),
});
type BlockActions = z.infer<typeof BlockActions>;

/**
 * Slack approvals via `@slack/web-api`: each new escalation is posted to one channel as a Block Kit
 * message with Approve / Deny buttons. Clicks arrive at `POST /v1/slack/interactions`, signed with
 * the app's signing secret; the Slack user must be a configured reviewer, and the decision goes
 * through the approval service like the API's. The message then shows the outcome and who decided.
 *
 * No state is kept here: the posted message carries `metadata` naming the approval, and a
 * resolution (by any channel, or the deadline) finds it again with `conversations.history` —
 * so it works across restarts and replicas.
 *
 * @example
 * const slack = createSlackChannel({ botToken: process.env.SLACK_BOT_TOKEN!, signingSecret: process.env.SLACK_SIGNING_SECRET!, channel: 'C0123456789', reviewers });
 */
export function createSlackChannel(options: SlackChannelOptions): Channel {
  const { channel } = options;
  const now = options.now ?? (() => new Date());
  const ownersOf = options.ownersOf ?? (() => []);
  const testedPathsOf = createTestedPathsLookup(options.policy);
  const reviewersBySlackId = new Map(options.reviewers.flatMap((reviewer) => (reviewer.slackUserId ? [[reviewer.slackUserId, reviewer] as const] : [])));
  // No retries in the client: the outbox retries with backoff, and a rate limit is just a failed attempt.
  // Loaded on first use: the Slack SDK (and its HTTP stack) costs a server without Slack calls nothing.
  let loadedClient: Promise<WebClient> | undefined;
  const slackClient = (): Promise<WebClient> =>
    (loadedClient ??= import('@slack/web-api').then(
      ({ WebClient, LogLevel }) =>
        new WebClient(options.botToken, {
          slackApiUrl: options.apiUrl ?? 'https://slack.com/api/',
          retryConfig: { retries: 0 },
          rejectRateLimitedCalls: true,
          timeout: options.timeoutMs ?? 10_000,
          logLevel: LogLevel.ERROR,
          allowAbsoluteUrls: false,
        }),
    ));

  const messageFor = (request: ApprovalRequest) => ({
    ...composeSlackMessage({
      request,
      reviewers: options.reviewers,
      requesterOwners: ownersOf(request.requester),
      testedPaths: testedPathsOf(request.ruleId),
      ...(options.inboxBaseUrl ? { inboxBaseUrl: options.inboxBaseUrl } : {}),
    }),
    metadata: { event_type: METADATA_EVENT, event_payload: { approval_id: request.id } },
  });
  // Clicks are bound to this app's workspace; learned once from the token when not configured.
  let team: Promise<string | undefined> | undefined = options.teamId ? Promise.resolve(options.teamId) : undefined;
  const ourTeam = (): Promise<string | undefined> => {
    team ??= slackClient().then((client) => client.auth.test()).then(
      (answer) => answer.team_id,
      (error: unknown) => {
        team = undefined; // ask again on the next click; this one fails closed
        console.error('signoff: Slack auth.test failed; clicks are refused until the workspace is known', error);
        return undefined;
      },
    );
    return team;
  };

  /** The approval a posted message was made for: from the click's copy of it, else from Slack's. */
  async function approvalOfMessage(payload: BlockActions, where: { channel: string | undefined; ts: string | undefined }): Promise<string | undefined> {
    const fromPayload = approvalIdOf(payload.message);
    if (fromPayload) return fromPayload;
    if (!where.channel || !where.ts) return undefined;
    const history = await (await slackClient()).conversations
      .history({ channel: where.channel, latest: where.ts, oldest: where.ts, inclusive: true, limit: 1, include_all_metadata: true })
      .catch(() => undefined); // unknown → the click is refused, never counted
    return approvalIdOf(history?.messages?.[0]);
  }

  const post = async (request: ApprovalRequest) => {
    await (await slackClient()).chat.postMessage({ channel, ...messageFor(request), unfurl_links: false, unfurl_media: false });
  };
  const update = async (where: { channel: string; ts: string }, request: ApprovalRequest) => {
    await (await slackClient()).chat.update({ channel: where.channel, ts: where.ts, ...messageFor(request) });
  };

  /** The message posted for a request: searched from its creation time on, by the metadata we attached. */
  async function findMessage(request: ApprovalRequest): Promise<{ channel: string; ts: string } | undefined> {
    let cursor: string | undefined;
    for (let page = 0; page < HISTORY_PAGES; page += 1) {
      const history = await (await slackClient()).conversations.history({
        channel,
        oldest: String(Math.floor(Date.parse(request.createdAt) / 1000) - 60), // a minute of clock skew
        inclusive: true,
        limit: 200,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      });
      const found = history.messages?.find((message) => approvalIdOf(message) === request.id);
      if (found?.ts) return { channel, ts: found.ts };
      cursor = history.response_metadata?.next_cursor;
      if (!history.has_more || !cursor) return undefined;
    }
    return undefined;
  }

  return {
    name: 'slack',
    targets(topic, request) {
      if (topic === 'approval.created' || topic === 'approval.updated') return request.status === 'pending' ? [channel] : [];
      // Requests the policy decided outright were never posted: nothing to update.
      const decidedByPolicy = request.status !== 'expired' && request.decisions.length === 0;
      return decidedByPolicy ? [] : [channel];
    },
    async deliver(message: RequestOutboxMessage, request: ApprovalRequest) {
      if (message.topic === 'approval.created') {
        // Resolved (or about to be swept): the resolution's delivery posts the outcome instead of buttons nobody can use.
        if (request.status !== 'pending' || Date.parse(request.expiresAt) <= now().getTime()) return;
        // A retry may follow an attempt that posted but never heard back: don't post twice.
        if (message.attempts > 0 && (await findMessage(request))) return;
        await post(request);
        return;
      }
      const posted = await findMessage(request);
      // Progress made elsewhere (API, inbox, email): redraw who approved and what is still missing; nothing to redraw if never posted.
      if (message.topic === 'approval.updated') {
        if (posted && request.status === 'pending') await update(posted, request);
        return;
      }
      await (posted ? update(posted, request) : post(request));
    },
    budgetTargets: () => [channel],
    async deliverNotice(message: NoticeOutboxMessage) {
      if (message.topic !== 'budget.exceeded') throw Object.assign(new Error(`Slack does not deliver ${message.topic}`), { permanent: true });
      const text = escapeMrkdwn(budgetNoticeText(message.notice));
      await (await slackClient()).chat.postMessage({ channel, text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:warning: ${text}` } }], unfurl_links: false, unfurl_media: false });
    },
    routes(app: Hono, service: ApprovalService) {
      app.use(SLACK_INTERACTIONS_PATH, limitBody(256 * 1024, (context) => apiError(context, 413, 'BODY_TOO_LARGE', 'interaction payload too large')));
      app.post(SLACK_INTERACTIONS_PATH, async (context) => {
        const body = Buffer.from(await context.req.arrayBuffer());
        const check = verifySlackSignature({
          signingSecret: options.signingSecret,
          timestamp: context.req.header('x-slack-request-timestamp'),
          signature: context.req.header('x-slack-signature'),
          body,
          now: now(),
        });
        if (!check.ok) {
          await service.recordRefusal({ type: 'access.refused', actor: 'unknown', channel: 'slack', detail: { reason: check.reason, path: SLACK_INTERACTIONS_PATH } });
          return apiError(context, 401, 'UNAUTHENTICATED', check.reason);
        }
        let payload: unknown;
        try {
          payload = JSON.parse(new URLSearchParams(body.toString('utf8')).get('payload') ?? '');
        } catch {
          return apiError(context, 400, 'INVALID_REQUEST', 'expected a form field `payload` holding JSON');
        }
        const parsed = BlockActions.safeParse(payload);
        // Other interaction types (shortcuts, modals) are not ours; Slack only needs the 200.
        const action = parsed.success ? parsed.data.actions.find((entry) => entry.action_id === APPROVE_ACTION || entry.action_id === DENY_ACTION) : undefined;
        if (!parsed.success || !action) return context.body(null, 200);
        // Acknowledge now (Slack allows 3 s); the ephemeral reply and the message update follow.
        const followUp = await handleClick(service, parsed.data, action);
        followUp().catch((error: unknown) => console.error('signoff: Slack follow-up failed', error));
        return context.body(null, 200);
      });
    },
  };

  /** Decides a click through the approval service; returns what to tell Slack afterwards. */
  async function handleClick(service: ApprovalService, payload: BlockActions, action: BlockActions['actions'][number]): Promise<() => Promise<void>> {
    const verdict = action.action_id === APPROVE_ACTION ? 'approve' : 'deny';
    const approvalId = action.value ?? '';
    const user = payload.user.id;
    const where = { channel: payload.channel?.id ?? payload.container?.channel_id, ts: payload.container?.message_ts };
    const tell = (text: string) => async () => {
      if (where.channel) await (await slackClient()).chat.postEphemeral({ channel: where.channel, user, text: escapeMrkdwn(text) });
    };
    /** Redraws the clicked message from the latest state (the request may have moved on meanwhile). */
    const refresh = async (fallback: ApprovalRequest) => {
      if (where.channel && where.ts) await update({ channel: where.channel, ts: where.ts }, (await service.get(fallback.id)) ?? fallback);
    };

    // A click counts only from this app's workspace and approvals channel, for the request its message was posted for.
    const expectedTeam = await ourTeam();
    const clickTeam = payload.team?.id ?? undefined;
    if (!expectedTeam || clickTeam !== expectedTeam || where.channel !== channel) {
      const reason = !expectedTeam
        ? 'the Slack workspace of this app is not known yet (auth.test failed)'
        : clickTeam !== expectedTeam
          ? `the click came from Slack workspace ${clickTeam ?? '(none)'}, not ${expectedTeam}`
          : `the click came from channel ${where.channel ?? '(none)'}, not the approvals channel`;
      await service.recordRefusal({
        type: 'access.refused',
        ...(APPROVAL_ID.test(approvalId) ? { requestId: approvalId } : {}),
        actor: 'unknown',
        channel: 'slack',
        detail: { reason, slackUserId: user, team: clickTeam ?? null, verdict },
      });
      return async () => undefined; // nothing to tell a workspace or channel that is not ours
    }

    const reviewer = reviewersBySlackId.get(user);
    if (!reviewer) {
      await service.recordRefusal({
        type: 'access.refused',
        ...(APPROVAL_ID.test(approvalId) ? { requestId: approvalId } : {}),
        actor: 'unknown',
        channel: 'slack',
        detail: { reason: 'the Slack user is not a configured reviewer', slackUserId: user, verdict },
      });
      return tell('You are not a Signoff reviewer, so your click was not counted. Ask an admin to add your Slack user id to the server config.');
    }
    const messageApproval = await approvalOfMessage(payload, where);
    if (messageApproval !== approvalId) {
      const reason = `the button names ${approvalId || '(nothing)'} but its message was posted for ${messageApproval ?? 'no Signoff approval'}`;
      await service.recordRefusal({
        type: 'decision.refused',
        ...(messageApproval && APPROVAL_ID.test(messageApproval) ? { requestId: messageApproval } : {}),
        actor: reviewer.id,
        channel: 'slack',
        detail: { verdict, code: 'MESSAGE_MISMATCH', reason, buttonApprovalId: approvalId },
      });
      return tell(`Not counted: ${reason}.`);
    }
    const request = APPROVAL_ID.test(approvalId) ? await service.get(approvalId) : undefined;
    if (!request) return tell('This Signoff server has no such approval request.');

    // The button approves the args its message showed (its block id carries their hash); the engine
    // checks that in the decision's own transaction, so an edit racing the click never gets this approval.
    const shownArgsHash = action.block_id?.startsWith(ACTIONS_BLOCK_PREFIX) ? action.block_id.slice(ACTIONS_BLOCK_PREFIX.length) : '';
    // A message too short for the args has no Approve button: an Approve click for them is forged.
    const notShown = argsNotShown(request, { verdict, argsHash: shownArgsHash, showsWhole: slackShowsArgsWhole, where: 'a Slack message' });
    if (notShown) {
      await service.recordRefusal({ type: 'decision.refused', requestId: request.id, actor: reviewer.id, channel: 'slack', detail: { verdict, code: ARGS_NOT_SHOWN, reason: notShown } });
      const inbox = reviewElsewhere(request.id, options.inboxBaseUrl).url;
      return tell(`Not approved: ${notShown}${inbox ? `: ${inbox}` : ''}.`);
    }
    const outcome = await service.decide(request.id, { reviewer, verdict, channel: 'slack', argsHash: shownArgsHash });
    if (!outcome) return tell('This Signoff server has no such approval request.');
    if (outcome.kind === 'refused') {
      if (outcome.code === 'ARGS_CHANGED') {
        return async () => {
          await refresh(outcome.request);
          await tell('Not approved: the args changed since this message was posted (a reviewer edited them); the message now shows the new args. Review them and click again.')();
        };
      }
      const stale = outcome.code === 'ALREADY_RESOLVED' || outcome.code === 'EXPIRED';
      return async () => {
        if (stale) await refresh(outcome.request);
        await tell(`Not counted: ${outcome.reason}.`)();
      };
    }
    // A resolution is drawn by its outbox delivery (which every channel's decisions go through); redrawing here too sent it twice.
    if (outcome.request.status !== 'pending') return async () => undefined;
    // Still waiting: say privately what is still missing, next to the redrawn progress.
    const summary = summarizeRequest(outcome.request, { now: now(), maxArgsChars: 0 });
    return async () => {
      await refresh(outcome.request);
      await tell(`Your ${verdict === 'approve' ? 'approval' : 'decision'} was recorded. ${outcome.request.resolution}: it needs ${summary.whoMustApprove}; so far ${summary.progress}.`)();
    };
  }
}

/** The approval a Slack message was posted for, from the metadata this channel attaches to it. */
function approvalIdOf(message: unknown): string | undefined {
  const metadata = (message as { metadata?: { event_type?: unknown; event_payload?: { approval_id?: unknown } } } | undefined)?.metadata;
  const id = metadata?.event_payload?.approval_id;
  return metadata?.event_type === METADATA_EVENT && typeof id === 'string' ? id : undefined;
}
