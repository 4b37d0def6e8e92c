import type { ApprovalRequest } from '@signoff/core';
import { canApprove } from '../../engine/quorum.js';
import type { Reviewer } from '../../engine/reviewer.js';
import { summarizeRequest } from '../email/summarize-request.js';
import { formatArgsForReview } from '../format-args-for-review.js';
import { revealHiddenCharacters } from '../reveal-hidden-characters.js';
import { reviewElsewhere } from '../review-elsewhere.js';

/** A Block Kit block, as `chat.postMessage` / `chat.update` take it. */
export type SlackBlock = { readonly type: string; readonly block_id?: string } & Readonly<Record<string, unknown>>;

/** What `chat.postMessage` / `chat.update` send: fallback text (notifications) and the blocks. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: SlackBlock[];
}

export interface ComposeSlackMessageInput {
  readonly request: ApprovalRequest;
  /** The reviewer directory: names for decisions, Slack ids to mention who can approve. */
  readonly reviewers: readonly Reviewer[];
  /** Reviewers who own the requesting agent (they cannot approve it, so are not asked). */
  readonly requesterOwners: readonly string[];
  /** The paths the deciding rule tested: those args are shown first. */
  readonly testedPaths?: readonly string[];
  /** The server's public URL when it serves the inbox: args too long for the message link to the request's inbox page. */
  readonly inboxBaseUrl?: string;
}

/** The buttons' `action_id`s; their `value` is the approval id. */
export const APPROVE_ACTION = 'signoff_approve';
export const DENY_ACTION = 'signoff_deny';
/** The link button shown instead of Approve when the message cannot show the args whole (clicks on it decide nothing). */
export const REVIEW_ACTION = 'signoff_review';
/** The actions block's id carries the hash of the args the message shows, so a click approves only those. */
export const ACTIONS_BLOCK_PREFIX = 'signoff_actions:';

// Slack's limits: section text 3000, a field 2000, a header 150 characters.
const SECTION_LIMIT = 2_900;
const FIELD_LIMIT = 1_900;
const HEADER_LIMIT = 150;
/** Characters of args (as shown: escaped, in a code block) one message holds; the section's label and note fit in the rest. */
const ARGS_BUDGET = 2_700;
const ARGS_LABEL_LIMIT = 120;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

/**
 * Whether a Slack message shows these args whole (about 2,700 characters, escaped, in a code
 * block). For longer args the message offers no Approve — only Deny and a link to review them in
 * the inbox — and the server refuses an Approve click for them (`ARGS_NOT_SHOWN`).
 *
 * @example
 * slackShowsArgsWhole({ to: 'acme', amount: 500 }); // true
 */
export function slackShowsArgsWhole(args: unknown): boolean {
  return codeText(formatArgsForReview(args, [])).length <= ARGS_BUDGET;
}

/**
 * The Block Kit message for a request: header, tool, requester, what it needs and who can approve,
 * deadline, approvals so far, reason, args (pretty JSON, the fields the rule tested first,
 * truncated), then Approve / Deny buttons while it is pending, or the outcome once resolved.
 * Args too long to show whole get no Approve: Deny, and a link to review them in the inbox.
 * Everything that comes from the agent is escaped, so args cannot mention people, ping channels
 * or show disguised links, and hidden or direction-changing characters show as `\uXXXX`.
 *
 * @example
 * await client.chat.update({ channel, ts, ...composeSlackMessage({ request, reviewers, requesterOwners: [] }) });
 */
export function composeSlackMessage(input: ComposeSlackMessageInput): SlackMessage {
  const { request, reviewers } = input;
  const summary = summarizeRequest(request, { now: new Date(), maxArgsChars: Number.POSITIVE_INFINITY, ...(input.testedPaths ? { testedPaths: input.testedPaths } : {}) });
  const nameOf = (id: string) => reviewers.find((reviewer) => reviewer.id === id)?.name ?? id;
  const pending = request.status === 'pending';
  const title = pending ? 'Approval needed' : request.status === 'approved' ? 'Approved' : request.status === 'denied' ? 'Denied' : 'Expired';
  const deadline = slackDate(request.expiresAt, '{date_short_pretty} at {time}');

  const approvals = request.decisions.filter((decision) => decision.verdict === 'approve' && decision.argsHash === request.approvedArgsHash);
  const progress = `${approvals.length} of ${request.requirements.requiredApprovals}${approvals.length ? ` — ${approvals.map((decision) => `${escapeMrkdwn(nameOf(decision.reviewer))} (${decision.channel})`).join(', ')}` : ''}`;
  const fields = [
    `*Tool*\n${inlineCode(summary.tool)}`,
    `*Requested by*\n${inlineCode(summary.requestedBy)}`,
    `*Needs*\n${escapeMrkdwn(summary.whoMustApprove)}`,
    `*Deadline*\n${deadline}`,
    `*Approvals so far*\n${progress}`,
  ];
  if (pending) fields.push(`*Can approve*\n${whoCanApprove(input)}`);

  const edited = request.approvedArgsHash !== request.argsHash;
  const notes = [edited ? 'edited by a reviewer' : '', summary.testedNote ? escapeMrkdwn(summary.testedNote) : ''].filter(Boolean);
  const args = codeBlock(clipMrkdwn(`*Args*${notes.length ? ` (${notes.join('; ')})` : ''}`, ARGS_LABEL_LIMIT), summary.argsText);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`${title}: ${summary.tool}`, HEADER_LIMIT), emoji: false } },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text: clipMrkdwn(text, FIELD_LIMIT) })) },
    { type: 'section', text: { type: 'mrkdwn', text: `*Reason*\n${escapeClipped(summary.reason, SECTION_LIMIT - 20)}` } },
    { type: 'section', text: { type: 'mrkdwn', text: args.text } },
  ];
  if (pending) {
    const deny = { type: 'button', action_id: DENY_ACTION, value: request.id, style: 'danger', text: { type: 'plain_text', text: 'Deny' } };
    if (args.whole) {
      blocks.push({
        type: 'actions',
        block_id: `${ACTIONS_BLOCK_PREFIX}${request.approvedArgsHash}`,
        elements: [{ type: 'button', action_id: APPROVE_ACTION, value: request.id, style: 'primary', text: { type: 'plain_text', text: 'Approve' } }, deny],
      });
    } else {
      // Approving what the message cut off is what the padding attack wants: approve where the args are shown whole.
      const elsewhere = reviewElsewhere(request.id, input.inboxBaseUrl);
      const where = elsewhere.url ? 'Use *Review in the inbox* to read them whole and approve there.' : escapeMrkdwn(elsewhere.text);
      blocks.push(
        { type: 'section', text: { type: 'mrkdwn', text: `:mag: *No Approve here:* the args are too long for a Slack message to show whole. ${where} Deny works here.` } },
        {
          type: 'actions',
          block_id: `${ACTIONS_BLOCK_PREFIX}${request.approvedArgsHash}`,
          elements: [...(elsewhere.url ? [{ type: 'button', action_id: REVIEW_ACTION, url: elsewhere.url, text: { type: 'plain_text', text: 'Review in the inbox' } }] : []), deny],
        },
      );
    }
  } else {
    const icon = request.status === 'approved' ? ':white_check_mark:' : request.status === 'denied' ? ':no_entry:' : ':hourglass:';
    const decided = request.decisions.map(
      (decision) =>
        `• ${escapeMrkdwn(nameOf(decision.reviewer))} ${decision.verdict === 'approve' ? 'approved' : 'denied'} via ${decision.channel}, ${slackDate(decision.at, '{date_short} {time}')}` +
        (decision.comment ? `: ${escapeClipped(revealHiddenCharacters(decision.comment), 300)}` : ''),
    );
    const outcome = `${icon} *${title}*${request.status === 'expired' ? (request.granted ? ' (allowed to run)' : ' (refused)') : ''} — ${escapeMrkdwn(request.resolution)}`;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clipMrkdwn([outcome, ...decided].join('\n'), SECTION_LIMIT) } });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: clipMrkdwn(`Signoff request ${inlineCode(request.id)}${request.ruleId ? ` · rule ${inlineCode(request.ruleId)}` : ''}`, FIELD_LIMIT) }],
  });
  const text = pending ? `Approval needed: ${summary.tool} — ${summary.reason}` : `${title}: ${summary.tool} — ${request.resolution}`;
  return { text: escapeClipped(text, 300), blocks };
}

/**
 * Escapes the three characters Slack's mrkdwn treats as markup (`&`, `<`, `>`), so text cannot
 * become a mention (`<@U123>`, `<!here>`), a disguised link (`<https://evil|bank.com>`) or a date.
 *
 * @example
 * escapeMrkdwn('<@U123> & co'); // '&lt;@U123&gt; &amp; co'
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Eligible reviewers who have not decided and did not ask for the call: mentioned when they have a Slack id. */
function whoCanApprove({ request, reviewers, requesterOwners }: ComposeSlackMessageInput): string {
  const requesters = [request.requester, request.onBehalfOf, ...requesterOwners];
  const candidates = reviewers.filter(
    (reviewer) =>
      canApprove(reviewer, request) &&
      !requesters.includes(reviewer.id) &&
      !request.decisions.some((decision) => decision.reviewer === reviewer.id && decision.argsHash === request.approvedArgsHash),
  );
  if (candidates.length === 0) return '_no configured reviewer_';
  return candidates.map((reviewer) => (reviewer.slackUserId && SLACK_USER_ID.test(reviewer.slackUserId) ? `<@${reviewer.slackUserId}>` : escapeMrkdwn(reviewer.name))).join(', ');
}

/** Slack's date token: shown in each reader's time zone; the ISO time is the fallback. */
function slackDate(iso: string, format: string): string {
  return `<!date^${Math.floor(Date.parse(iso) / 1000)}^${format}|${escapeMrkdwn(iso)}>`;
}

/** Inline code: no formatting inside; a backtick would end it, so it becomes a look-alike. */
function inlineCode(text: string): string {
  return `\`${escapeClipped(text, 300).replace(/`/g, 'ˋ')}\``;
}

/** A code block with a label, holding as much of `text` as fits {@link ARGS_BUDGET}, saying how much was cut. */
function codeBlock(label: string, text: string): { text: string; whole: boolean } {
  const { kept, omitted } = fitEscaped(text, ARGS_BUDGET, codeText);
  return { text: `${label}\n\`\`\`${codeText(kept)}\`\`\`${omitted > 0 ? `\n_… ${omitted} more characters not shown_` : ''}`, whole: omitted === 0 };
}

/** Text as it goes inside a code block: escaped, and only ``` ends a block, so a zero-width space between backticks keeps the args in it, looking the same. */
function codeText(text: string): string {
  return escapeMrkdwn(text).replace(/`(?=`)/g, '`\u200b');
}

/** Escapes `text` and cuts it (before escaping, so no entity is split) to fit `max` characters. */
function escapeClipped(text: string, max: number): string {
  const { kept, omitted } = fitEscaped(text, max - 1, escapeMrkdwn);
  return escapeMrkdwn(kept) + (omitted > 0 ? '…' : '');
}

/** The longest prefix of `text` whose escaped form fits `budget` characters (escaping at most quintuples a character). */
function fitEscaped(text: string, budget: number, escape: (text: string) => string): { kept: string; omitted: number } {
  let length = Math.min(text.length, budget);
  for (;;) {
    let kept = text.slice(0, length);
    if (/[\ud800-\udbff]$/.test(kept)) kept = kept.slice(0, -1); // never split a surrogate pair
    const escapedLength = escape(kept).length;
    if (escapedLength <= budget) return { kept, omitted: text.length - kept.length };
    length = kept.length - Math.max(1, Math.ceil((escapedLength - budget) / 4));
  }
}

/** Cuts text we composed (already escaped) at a safe point. */
function clipMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).replace(/&[a-z]*$|<[^>]*$/, '')}…`;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
