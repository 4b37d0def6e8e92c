import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../audit/audit-event.js';
import { signEmailToken } from '../channels/email/email-token.js';
import { freePort, startTestMailServer, type TestMailServer } from '../channels/email/test-mail-server.js';
import { startTestSlackServer, type FakeSlackMessage, type TestSlackServer } from '../channels/slack/test-slack-server.js';
import { loadServerConfig, sha256Hex } from '../config/server-config.js';
import { startServer, type RunningServer } from '../start-server.js';
import { client } from '../test-server.js';
import { auditMark, formBrowser, summary } from './attack-helpers.js';

/**
 * Issue #13, item 3: padding hides the args that matter. The API takes 256 KiB of args; a Slack
 * message shows about 2.7k characters of them, an email 5k, its confirm page 20k. With 116 KB of
 * memo first, the recipient was cut off everywhere while Approve stayed one click away. A real
 * server with Slack (fake Web API), email (real SMTP) and the inbox must offer Approve only where
 * the args are shown whole, refuse (and audit) an Approve from anywhere else, show the fields the
 * rule tested first, and show hidden or direction-changing characters as escapes.
 */

const BOT_TOKEN = 'xoxb-1234-5678-paddingtest';
const SIGNING_SECRET = 'padding-suite-slack-signing-secret-01';
const LINK_SECRET = 'email-link-secret-for-padding-0123456789abcdef';
const CHANNEL = 'C0APPROVALS';
const AGENT_KEY = 'sk_test_agent_padding_0123456789';
const ANA_KEY = 'sk_test_ana_padding_01234567890';
const USERS = { ana: 'U0ANA', bo: 'U0BO' } as const;
const POLICY = `version: 1
default: deny
rules:
  - id: big-payments
    tool: payment.send
    action: escalate
    when: { args.amount: { gt: 100 }, args.to: { not: { ends_with: "@acme.com" } } }
    reason: "Payments over 100 outside acme need a finance approval"
    metadata: { approver_roles: [finance], approval_timeout_minutes: 30 }
  - id: transfers
    tool: "transfer.*"
    action: escalate
    reason: "Transfer to {args.to}"
    metadata: { approver_roles: [finance], approval_timeout_minutes: 30 }
`;
/** The args: 116 KB of memo first, then who gets the money. */
const padded = (amount: number) => ({ memo: 'x'.repeat(116_000), to: 'mallory', amount });

let slack: TestSlackServer;
let mail: TestMailServer;
let server: RunningServer;
let directory: string;
let agent: ReturnType<typeof client>;
let interactions: string;

beforeAll(async () => {
  slack = await startTestSlackServer({ token: BOT_TOKEN, channels: [CHANNEL] });
  mail = await startTestMailServer();
  directory = mkdtempSync(join(tmpdir(), 'signoff-padding-attack-'));
  const port = await freePort();
  writeFileSync(join(directory, 'policy.yaml'), POLICY);
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      'policy: policy.yaml',
      'store: sqlite:./signoff.db',
      `listen: 127.0.0.1:${port}`,
      `public_url: http://127.0.0.1:${port}`,
      'sweep_interval_seconds: 1',
      'slack:',
      `  bot_token: ${BOT_TOKEN}`,
      `  signing_secret: ${SIGNING_SECRET}`,
      `  channel: ${CHANNEL}`,
      `  api_url: ${slack.apiUrl}`,
      'email:',
      `  smtp_url: smtp://127.0.0.1:${mail.port}`,
      '  from: Signoff <signoff@example.com>',
      `  link_secret: ${LINK_SECRET}`,
      'inbox:',
      '  session_secret: inbox-session-secret-for-padding-0123456789',
      'reviewers:',
      `  - { id: ana, name: Ana Lima, roles: [finance], slack_user_id: ${USERS.ana}, email: ana@example.com }`,
      `  - { id: bo, name: Bo Berg, roles: [finance], slack_user_id: ${USERS.bo}, email: bo@example.com }`,
      'api_keys:',
      `  - { name: payments-agent, kind: agent, key_sha256: "${sha256Hex(AGENT_KEY)}" }`,
      `  - { name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex(ANA_KEY)}" }`,
    ].join('\n'),
  );
  server = await startServer(loadServerConfig(join(directory, 'signoff.yaml')));
  agent = client(server.url, AGENT_KEY);
  interactions = `${server.url}/v1/slack/interactions`;
});
afterAll(async () => {
  await server?.close();
  await slack?.close();
  await mail?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

interface Pending {
  readonly id: string;
  readonly argsHash: string;
  readonly message: FakeSlackMessage;
  /** Ana's mail about it. */
  readonly mail: ParsedMail;
}

/** Opens a pending request and waits for its Slack message and Ana's mail. */
async function escalate(args: object, tool = 'payment.send'): Promise<Pending> {
  const created = await agent('POST', '/v1/approvals', { tool, args });
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('pending');
  const id = created.body.id as string;
  await expect.poll(() => slack.messageFor(id), { timeout: 5_000 }).toBeDefined();
  const mailFor = () => mail.received.find((message) => message.headers.get('x-signoff-approval') === id && /ana@example\.com/.test(JSON.stringify(message.to)));
  await expect.poll(mailFor, { timeout: 5_000 }).toBeDefined();
  return { id, argsHash: created.body.approvedArgsHash as string, message: slack.messageFor(id) as FakeSlackMessage, mail: mailFor() as ParsedMail };
}
const statusOf = async (id: string) => (await agent('GET', `/v1/approvals/${id}`)).body.status as string;
const inboxUrl = (id: string) => `${server.url}/inbox/requests/${id}`;

type Buttons = { action_id: string; url?: string; value?: string }[];
const buttonsOf = (message: FakeSlackMessage): Buttons => message.blocks.find((block) => block.type === 'actions')?.elements ?? [];
const argsSectionOf = (message: FakeSlackMessage): string =>
  message.blocks.map((block) => block.text?.text ?? '').find((text: string) => text.startsWith('*Args*')) as string;
/** The message with an Approve button put back into its actions block, as a forged click would carry it. */
function withForgedApprove(message: FakeSlackMessage, blockId?: string): FakeSlackMessage {
  const forged = structuredClone(message);
  const actions = forged.blocks.find((block) => block.type === 'actions');
  actions.elements.unshift({ type: 'button', action_id: 'signoff_approve', value: forged.metadata?.event_payload.approval_id, style: 'primary', text: { type: 'plain_text', text: 'Approve' } });
  if (blockId) actions.block_id = blockId;
  return forged;
}
const click = (message: FakeSlackMessage, userId: string, actionId: 'signoff_approve' | 'signoff_deny') =>
  slack.click({ url: interactions, signingSecret: SIGNING_SECRET, message, userId, actionId });

/** The Approve / Deny / Review URLs in a mail's text part. */
const linksIn = (message: ParsedMail) => ({
  approve: /^Approve: (\S+)$/m.exec(message.text ?? '')?.[1],
  review: /^Review in the inbox: (\S+)$/m.exec(message.text ?? '')?.[1],
  deny: /^Deny: +(\S+)$/m.exec(message.text ?? '')?.[1] as string,
});
const open = async (url: string) => {
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, text: await response.text() };
};
/** What pressing a confirm page's button sends, or a crafted post of the same fields. */
const press = async (fields: Record<string, string>) => {
  const response = await fetch(`${server.url}/email/decide`, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
  return { status: response.status, text: await response.text() };
};
const approveToken = (approvalId: string, reviewerId = 'ana') =>
  signEmailToken({ approvalId, reviewerId, verdict: 'approve', exp: Math.floor(Date.now() / 1000) + 3_600 }, LINK_SECRET);
async function inboxPage(id: string): Promise<string> {
  const browser = formBrowser(server.url);
  expect((await browser.signIn(ANA_KEY)).status).toBe(303);
  const page = await browser.get(`/inbox/requests/${id}`);
  expect(page.status).toBe(200);
  return page.text;
}
/** Positions of the tested fields and of the memo in a rendering (quotes possibly HTML-escaped). */
function order(text: string): { amount: number; to: number; memo: number } {
  const at = (key: string) => text.search(new RegExp(`(?:"|&quot;)${key}(?:"|&quot;): `));
  return { amount: at('amount'), to: at('to'), memo: at('memo') };
}
function expectTestedFirst(text: string): void {
  const { amount, to, memo } = order(text);
  expect(amount).toBeGreaterThan(-1);
  expect(amount).toBeLessThan(to);
  expect(to).toBeLessThan(memo);
}

interface PaddingCase {
  readonly name: string;
  /** The target's args (default: the padding). */
  readonly args?: () => object;
  /** Performs the attack on a fresh request whose 116 KB args no channel but the inbox shows whole. */
  readonly attack: (target: Pending) => Promise<{ status: number }>;
  readonly status: number;
  readonly audit: ReadonlyArray<Record<string, unknown>>;
}

let amount = 5_000;
const cases: PaddingCase[] = [
  {
    name: 'a forged Approve click on a message that could not show the args (116 KB of memo before to: mallory) → 200, decision.refused ARGS_NOT_SHOWN',
    attack: async ({ id, message }) => {
      const response = await click(withForgedApprove(message), USERS.ana, 'signoff_approve');
      // The reviewer is told privately why, and where to approve instead.
      const reply = () => slack.callsTo('chat.postEphemeral').find((call) => call.params.user === USERS.ana && String(call.params.text).includes(id));
      await expect.poll(reply, { timeout: 5_000 }).toBeDefined();
      expect(reply()?.params.text).toMatch(/^Not approved: the args are too long for a Slack message to show whole, .*: http:\/\/127\.0\.0\.1:\d+\/inbox\/requests\/apr_[\w-]+\.$/);
      return response;
    },
    status: 200,
    audit: [{ type: 'decision.refused', channel: 'slack', actor: 'ana', code: 'ARGS_NOT_SHOWN' }],
  },
  {
    name: 'a forged Approve click naming other args’ hash in its block id → 200, decision.refused ARGS_CHANGED (the engine binds approvals to the shown args)',
    attack: ({ message }) => click(withForgedApprove(message, `signoff_actions:${'0'.repeat(64)}`), USERS.ana, 'signoff_approve'),
    status: 200,
    audit: [{ type: 'decision.refused', channel: 'slack', actor: 'ana', code: 'ARGS_CHANGED' }],
  },
  {
    name: 'a crafted email POST with a validly signed approve token for args the confirm page cannot show → 403, decision.refused ARGS_NOT_SHOWN',
    attack: ({ id, argsHash }) => press({ token: approveToken(id), argsHash }),
    status: 403,
    audit: [{ type: 'decision.refused', channel: 'email', actor: 'ana', code: 'ARGS_NOT_SHOWN' }],
  },
  {
    name: 'padding under an integer-like key ("0", which JS objects always list first): to still shows first, and a forged Approve click → 200, decision.refused ARGS_NOT_SHOWN',
    args: () => JSON.parse(`{"0": "${'x'.repeat(116_000)}", "to": "mallory", "amount": ${(amount += 1)}}`),
    attack: async ({ message }) => {
      expect(argsSectionOf(message).split('\n').slice(1, 4)).toEqual(['```{', `  "amount": ${amount},`, '  "to": "mallory",']);
      return click(withForgedApprove(message), USERS.bo, 'signoff_approve');
    },
    status: 200,
    audit: [{ type: 'decision.refused', channel: 'slack', actor: 'bo', code: 'ARGS_NOT_SHOWN' }],
  },
  {
    name: 'GET of a crafted approve link for those args shows no Approve button (not audited: a GET decides nothing)',
    attack: async ({ id }) => {
      const page = await open(`${server.url}/email/decide?token=${approveToken(id)}`);
      expect(page.text).not.toMatch(/<form|<button/);
      expect(page.text).toContain(`<a href="${inboxUrl(id)}">Review them whole in the inbox</a>`);
      return page;
    },
    status: 200,
    audit: [],
  },
];

describe('padding attacks: Approve only where the args were shown whole', () => {
  it.each(cases)('$name', async (attackCase) => {
    const target = await escalate(attackCase.args?.() ?? padded((amount += 1)));
    const mark = await auditMark(server.store);
    const response = await attackCase.attack(target);
    expect(response.status).toBe(attackCase.status);
    const added = (await mark.added()).filter((entry: AuditEntry) => entry.type !== 'request.created');
    expect(added.map(summary)).toMatchObject(attackCase.audit);
    expect(added).toHaveLength(attackCase.audit.length);
    expect(await statusOf(target.id)).toBe('pending');
  });

  it('the issue’s case: Slack, the email and its confirm page offer no Approve but the inbox; Deny works; the inbox shows mallory; tested fields first everywhere', async () => {
    const { id, message, mail: anasMail } = await escalate(padded((amount += 1)));

    // Slack: Review in the inbox (a link) and Deny; amount and to, with their values, before the memo.
    expect(buttonsOf(message).map((button) => [button.action_id, button.url])).toEqual([['signoff_review', inboxUrl(id)], ['signoff_deny', undefined]]);
    const slackArgs = argsSectionOf(message);
    expect(slackArgs).toContain('"amount": 5');
    expect(slackArgs).toContain('"to": "mallory"');
    expectTestedFirst(slackArgs);

    // The email: no Approve link, a Review in the inbox link, Deny; the same order in both parts.
    const links = linksIn(anasMail);
    expect(links.approve).toBeUndefined();
    expect(links.review).toBe(inboxUrl(id));
    expect(anasMail.html).toContain(`href="${inboxUrl(id)}"`);
    expect(anasMail.html).not.toMatch(/>Approve<\/a>/);
    for (const part of [anasMail.text as string, anasMail.html as string]) {
      expect(part).toMatch(/(?:"|&quot;)to(?:"|&quot;): (?:"|&quot;)mallory/);
      expectTestedFirst(part);
    }

    // The Deny link's confirm page shows the same order and denies.
    const confirm = await open(links.deny);
    expect(confirm.status).toBe(200);
    expectTestedFirst(confirm.text);
    expect(confirm.text).toContain('too long to show whole here (the first 20,000 characters)');

    // The inbox shows the args whole: mallory, amount, and every character of the memo.
    const page = await inboxPage(id);
    expect(page).toContain('&quot;to&quot;: &quot;mallory&quot;');
    expect(page).toContain(`&quot;memo&quot;: &quot;${'x'.repeat(116_000)}&quot;`);
    expect(page).not.toContain('more characters not shown');
    expect(page).toContain('<pre class="args">');
    expectTestedFirst(page);

    // Deny works from Slack, and the message then shows the outcome.
    expect((await click(message, USERS.ana, 'signoff_deny')).status).toBe(200);
    await expect.poll(() => statusOf(id), { timeout: 5_000 }).toBe('denied');
  });

  it('Deny works from the email of a padded request; Approve works in the inbox, which showed the args whole', async () => {
    const denied = await escalate(padded((amount += 1)));
    const confirm = await open(linksIn(denied.mail).deny);
    const token = /name="token" value="([^"]+)"/.exec(confirm.text)?.[1] as string;
    const argsHash = /name="argsHash" value="([0-9a-f]{64})"/.exec(confirm.text)?.[1] as string;
    expect((await press({ token, argsHash })).status).toBe(200);
    expect(await statusOf(denied.id)).toBe('denied');

    const approved = await escalate(padded((amount += 1)));
    const browser = formBrowser(server.url);
    await browser.signIn(ANA_KEY);
    const page = await browser.get(`/inbox/requests/${approved.id}`);
    const action = `/inbox/requests/${approved.id}/decide`;
    const csrf = new RegExp(`action="${action}">[\\s\\S]*?name="csrf" value="([^"]+)"`).exec(page.text)?.[1] as string;
    expect((await browser.post(action, { csrf, verdict: 'approve', argsHash: approved.argsHash, comment: 'read it whole' })).status).toBe(303);
    expect(await statusOf(approved.id)).toBe('approved');
  });

  it('small args keep the one-click Approve in Slack, the email and the confirm page', async () => {
    const { id, message, mail: anasMail } = await escalate({ to: 'mallory', amount: (amount += 1), memo: 'March invoice' });
    expect(buttonsOf(message).map((button) => button.action_id)).toEqual(['signoff_approve', 'signoff_deny']);
    expect(argsSectionOf(message)).not.toContain('not shown');
    const links = linksIn(anasMail);
    expect(links.review).toBeUndefined();
    const confirm = await open(links.approve as string);
    expect(confirm.text).toContain('<button type="submit" class="approve">Approve</button>');
    expectTestedFirst(confirm.text);
    expect((await click(message, USERS.bo, 'signoff_approve')).status).toBe(200);
    await expect.poll(() => statusOf(id), { timeout: 5_000 }).toBe('approved');
  });

  it('hidden and direction-changing characters in the tool, reason and args show as escapes in Slack, the email (text and HTML), the confirm page and the inbox', async () => {
    const HIDDEN = /[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
    // The reason is the policy's template, filled with the agent's `to`: the override reaches it too.
    const { id, message, mail: anasMail } = await escalate({ to: 'mallory\u202e moc.emca@', amount: 5, note: 'zero\u200bwidth\u2066isolate\ufeff' }, 'transfer.send\u200b');
    const expectEscaped = (text: string) => {
      expect(text).not.toMatch(HIDDEN);
      expect(text).toContain('mallory\\u202e moc.emca@');
      expect(text).toContain('zero\\u200bwidth\\u2066isolate\\ufeff');
      expect(text).toContain('transfer.send\\u200b');
    };
    const slackTexts = [message.text, ...message.blocks.flatMap((block) => [block.text?.text, ...(block.fields ?? []).map((field: { text: string }) => field.text)])].join('\n');
    expectEscaped(slackTexts);
    expect(slackTexts).toContain('*Reason*\nTransfer to mallory\\u202e moc.emca@');
    expectEscaped(`${anasMail.subject} ${anasMail.text}`);
    expectEscaped(anasMail.html as string);
    expectEscaped((await open(linksIn(anasMail).approve as string)).text);
    expectEscaped(await inboxPage(id));
  });
});
