import { hashArgs, type ApprovalRequest } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import type { Reviewer } from '../../engine/reviewer.js';
import { composeSlackMessage, escapeMrkdwn, slackShowsArgsWhole, type SlackBlock } from './compose-slack-message.js';

const reviewers: Reviewer[] = [
  { id: 'ana', name: 'Ana <Lima>', roles: ['finance'], slackUserId: 'U0ANA' },
  { id: 'bo', name: 'Bo', roles: ['finance'] },
  { id: 'eve', name: 'Eve', roles: ['finance'], slackUserId: 'not-an-id><!here' },
];

function requestWith(args: unknown, extra: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const argsHash = hashArgs(args);
  return {
    id: 'apr_0123456789abcdef',
    tool: 'db.query_run',
    args,
    argsHash,
    context: undefined,
    reason: 'Needs *review* <!here>',
    ruleId: 'queries',
    policyHash: 'x',
    requester: 'agent',
    onBehalfOf: undefined,
    requirements: { requiredApprovals: 1, approverRoles: ['finance'], timeoutMs: 60_000, timeoutAction: 'deny', grantTtlMs: 86_400_000 },
    notify: [],
    status: 'pending',
    granted: false,
    approvedArgs: args,
    approvedArgsHash: argsHash,
    decisions: [],
    resolution: 'Waiting for approval',
    createdAt: '2030-01-01T00:00:00.000Z',
    expiresAt: '2030-01-01T00:01:00.000Z',
    resolvedAt: undefined,
    idempotencyKey: undefined,
    callbackUrl: undefined,
    ...extra,
  };
}

type Texts = { text?: { text: string }; fields?: { text: string }[] };
const sectionTexts = (blocks: SlackBlock[]) =>
  blocks.filter((block) => block.type === 'section').flatMap((block) => [(block as Texts).text?.text ?? '', ...((block as Texts).fields ?? []).map((field) => field.text)]);
const argsSection = (blocks: SlackBlock[]) => sectionTexts(blocks).find((text) => text.startsWith('*Args*')) as string;

describe('composeSlackMessage', () => {
  it('escapes &, < and > so text cannot mention, ping or link', () => {
    expect(escapeMrkdwn('<@U1> <!here> <https://x|y> & co')).toBe('&lt;@U1&gt; &lt;!here&gt; &lt;https://x|y&gt; &amp; co');
    const { text, blocks } = composeSlackMessage({ request: requestWith({ q: '<!everyone>' }), reviewers, requesterOwners: [] });
    expect(text).toBe('Approval needed: db.query_run — Needs *review* &lt;!here&gt;');
    expect(JSON.stringify(blocks)).not.toMatch(/<!(here|everyone)/);
    // A reviewer name is escaped; a malformed configured Slack id is not turned into a mention.
    const canApprove = sectionTexts(blocks).find((entry) => entry.startsWith('*Can approve*'));
    expect(canApprove).toBe('*Can approve*\n<@U0ANA>, Bo, Eve');
  });

  it('keeps args inside their code block, even when they contain backticks', () => {
    const { blocks } = composeSlackMessage({ request: requestWith({ cmd: 'echo ```<@U1>``` `x`' }), reviewers, requesterOwners: [] });
    const section = argsSection(blocks);
    expect(section.match(/```/g)).toHaveLength(2);
    expect(section).toContain('&lt;@U1&gt;');
  });

  it('truncates to Slack limits without splitting an escape or an emoji, and says how much was cut', () => {
    for (const filler of ['<&>'.repeat(4_000), '😀'.repeat(4_000)]) {
      const { blocks } = composeSlackMessage({ request: requestWith({ filler }, { tool: 't'.repeat(400), reason: filler }), reviewers, requesterOwners: [] });
      const header = blocks[0] as unknown as { text: { text: string } };
      expect(header.text.text.length).toBeLessThanOrEqual(150);
      for (const text of sectionTexts(blocks)) {
        expect(text.length).toBeLessThanOrEqual(3_000);
        expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
        expect(text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
      }
      expect(argsSection(blocks)).toMatch(/_… \d+ more characters not shown_$/);
    }
  });

  it('shows the outcome instead of buttons once resolved', () => {
    const request = requestWith({ a: 1 }, { status: 'expired', granted: true, resolution: 'No decision within 1 min; timeout_action allow lets it run' });
    const { blocks } = composeSlackMessage({ request, reviewers, requesterOwners: [] });
    expect(blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(blocks[0]).toMatchObject({ text: { text: 'Expired: db.query_run' } });
    expect(sectionTexts(blocks).join('\n')).toContain(':hourglass: *Expired* (allowed to run) — No decision within 1 min');
  });

  const buttons = (blocks: SlackBlock[]) =>
    ((blocks.find((block) => block.type === 'actions') as { elements?: { action_id: string; url?: string }[] } | undefined)?.elements ?? []).map((button) => [button.action_id, button.url]);

  it('offers Approve only for args it shows whole; otherwise Deny and a link to the inbox page', () => {
    const small = composeSlackMessage({ request: requestWith({ to: 'acme', amount: 5 }), reviewers, requesterOwners: [], inboxBaseUrl: 'https://signoff.example.com' });
    expect(buttons(small.blocks)).toEqual([['signoff_approve', undefined], ['signoff_deny', undefined]]);

    const padded = requestWith({ memo: 'x'.repeat(116_000), to: 'mallory', amount: 5_000 });
    expect(slackShowsArgsWhole(padded.approvedArgs)).toBe(false);
    const withInbox = composeSlackMessage({ request: padded, reviewers, requesterOwners: [], inboxBaseUrl: 'https://signoff.example.com/', testedPaths: ['args.amount', 'args.to'] });
    expect(buttons(withInbox.blocks)).toEqual([['signoff_review', 'https://signoff.example.com/inbox/requests/apr_0123456789abcdef'], ['signoff_deny', undefined]]);
    expect(sectionTexts(withInbox.blocks).join('\n')).toContain('Use *Review in the inbox* to read them whole and approve there.');
    for (const text of sectionTexts(withInbox.blocks)) expect(text.length).toBeLessThanOrEqual(3_000);

    const withoutInbox = composeSlackMessage({ request: padded, reviewers, requesterOwners: [] });
    expect(buttons(withoutInbox.blocks)).toEqual([['signoff_deny', undefined]]);
    expect(sectionTexts(withoutInbox.blocks).join('\n')).toContain('`signoff approvals show apr_0123456789abcdef`');
  });

  it('shows the fields the deciding rule tested first, with their values, then the rest', () => {
    const request = requestWith({ memo: 'x'.repeat(116_000), payee: { note: 'n', to: 'mallory' }, amount: 5_000 });
    const section = argsSection(composeSlackMessage({ request, reviewers, requesterOwners: [], testedPaths: ['args.amount', 'args.payee.to', 'context.user'] }).blocks);
    expect(section.split('\n')[0]).toBe('*Args* (amount, payee.to first: rule queries checks them)');
    expect(section).toContain('{\n  "amount": 5000,\n  "payee": {\n    "to": "mallory",\n    "note": "n"\n  },\n  "memo": "xxx');
  });

  it('shows hidden and direction-changing characters in the tool, reason and args as escapes', () => {
    const request = requestWith({ to: 'mallory\u202e', memo: 'a\u200bb\u2066c\ufeff' }, { tool: 'pay\u200fment.send', reason: 'Pay \u202emallory\u202c now\u2028' });
    const { text, blocks } = composeSlackMessage({ request, reviewers, requesterOwners: [] });
    const shown = JSON.stringify(blocks) + text;
    expect(shown).not.toMatch(/[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/);
    expect(argsSection(blocks)).toContain('"to": "mallory\\u202e"');
    expect(argsSection(blocks)).toContain('"memo": "a\\u200bb\\u2066c\\ufeff"');
    expect(sectionTexts(blocks).join('\n')).toContain('*Reason*\nPay \\u202emallory\\u202c now\\u2028');
    expect((blocks[0] as unknown as { text: { text: string } }).text.text).toBe('Approval needed: pay\\u200fment.send');
  });

  it('keeps the args section within Slack’s limit however many backticks need a guard', () => {
    const { blocks } = composeSlackMessage({ request: requestWith({ cmd: '`'.repeat(5_000) }), reviewers, requesterOwners: [] });
    expect(argsSection(blocks).length).toBeLessThanOrEqual(3_000);
    expect(slackShowsArgsWhole({ cmd: '`'.repeat(1_000) })).toBe(true);
    expect(slackShowsArgsWhole({ cmd: '`'.repeat(1_400) })).toBe(false); // over 2,800 characters once each backtick before another is guarded
  });
});
