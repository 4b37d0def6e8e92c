import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../audit/audit-chain.js';
import { loadServerConfig, sha256Hex } from '../../config/server-config.js';
import { startServer, type RunningServer } from '../../start-server.js';
import { client } from '../../test-server.js';
import { startTestSlackServer, type FakeSlackMessage, type TestSlackServer } from './test-slack-server.js';

const BOT_TOKEN = 'xoxb-1234-5678-signofftest';
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const CHANNEL = 'C0APPROVALS';
const AGENT_KEY = 'sk_test_agent_slack_0123456789';
const ANA_KEY = 'sk_test_ana_slack_012345678901';
const BO_KEY = 'sk_test_bo_slack_0123456789012';
const BUDGET_AGENT_KEY = 'sk_test_budget_agent_slack_0123';
const USERS = { ana: 'U0ANA', bo: 'U0BO', sam: 'U0SAM', dev: 'U0DEV', stranger: 'U0STRANGER' } as const;
const POLICY = `version: 1
default: deny
rules:
  - id: big-payments
    tool: payment.send
    action: escalate
    reason: "Payment of {args.amount} to {args.to}"
    metadata: { required_approvals: 2, approver_roles: [finance, security], approval_timeout_minutes: 30 }
  - id: refunds
    tool: refund.issue
    action: escalate
    metadata: { approver_roles: [finance], approval_timeout_minutes: 30 }
  - id: quick-deploys
    tool: deploy.run
    action: escalate
    metadata: { approver_roles: [finance], approval_timeout_minutes: 0.02 }
`;

let slack: TestSlackServer;
let server: RunningServer;
let directory: string;
let agent: ReturnType<typeof client>;
let interactions: string;

beforeAll(async () => {
  slack = await startTestSlackServer({ token: BOT_TOKEN, channels: [CHANNEL], historyPageSize: 2 });
  directory = mkdtempSync(join(tmpdir(), 'signoff-slack-'));
  writeFileSync(join(directory, 'policy.yaml'), POLICY);
  writeFileSync(
    join(directory, 'signoff.yaml'),
    [
      'policy: policy.yaml',
      'store: sqlite:./signoff.db',
      'listen: 127.0.0.1:0',
      'sweep_interval_seconds: 0.2',
      'slack:',
      `  bot_token: ${BOT_TOKEN}`,
      '  signing_secret_env: TEST_SLACK_SIGNING_SECRET',
      `  channel: ${CHANNEL}`,
      `  api_url: ${slack.apiUrl}`,
      'reviewers:',
      `  - { id: ana, name: Ana Lima, roles: [finance], slack_user_id: ${USERS.ana} }`,
      `  - { id: bo, name: Bo Berg, roles: [finance], slack_user_id: ${USERS.bo} }`,
      `  - { id: sam, name: Sam Okafor, roles: [security], slack_user_id: ${USERS.sam} }`,
      `  - { id: dev, name: Dev Patel, roles: [engineering], slack_user_id: ${USERS.dev} }`,
      'api_keys:',
      `  - { name: payments-agent, kind: agent, key_sha256: "${sha256Hex(AGENT_KEY)}" }`,
      `  - { name: eager-agent, kind: agent, key_sha256: "${sha256Hex(BUDGET_AGENT_KEY)}", escalation_budget: { max_pending: 1 } }`,
      `  - { name: ana, kind: reviewer, reviewer: ana, key_sha256: "${sha256Hex(ANA_KEY)}" }`,
      `  - { name: bo, kind: reviewer, reviewer: bo, key_sha256: "${sha256Hex(BO_KEY)}" }`,
    ].join('\n'),
  );
  server = await startServer(loadServerConfig(join(directory, 'signoff.yaml'), { TEST_SLACK_SIGNING_SECRET: SIGNING_SECRET }));
  agent = client(server.url, AGENT_KEY);
  interactions = `${server.url}/v1/slack/interactions`;
});
afterAll(async () => {
  await server?.close();
  await slack?.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Opens a request through the API and waits for its Slack message. */
async function escalate(body: object): Promise<{ id: string; message: FakeSlackMessage }> {
  const created = await agent('POST', '/v1/approvals', body);
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await expect.poll(() => slack.messageFor(id), { timeout: 5_000 }).toBeDefined();
  return { id, message: slack.messageFor(id) as FakeSlackMessage };
}

const click = (message: FakeSlackMessage, userId: string, actionId: 'signoff_approve' | 'signoff_deny', extra: { timestamp?: number; signature?: string } = {}) =>
  slack.click({ url: interactions, signingSecret: SIGNING_SECRET, message, userId, actionId, ...extra });
const approval = async (id: string) => (await agent('GET', `/v1/approvals/${id}`)).body;
/** Everything a message shows, as one string. */
const shown = (message: FakeSlackMessage) => JSON.stringify(message.blocks);
const hasButtons = (message: FakeSlackMessage) => message.blocks.some((block) => block.type === 'actions');
const ephemeralsTo = (userId: string) => slack.callsTo('chat.postEphemeral').filter((call) => call.params.user === userId).map((call) => call.params.text as string);

describe('the Slack channel', () => {
  it('redraws the message when an approval arrives through another channel, showing who approved and what is still missing', async () => {
    const { id, message } = await escalate({ tool: 'payment.send', args: { to: 'acme', amount: 910 } });
    const ana = client(server.url, ANA_KEY);
    expect((await ana('POST', `/v1/approvals/${id}/decision`, { verdict: 'approve', argsHash: (await approval(id)).approvedArgsHash })).status).toBe(200);
    await expect.poll(() => shown(message), { timeout: 5_000 }).toContain('1 of 2 — Ana Lima (api)');
    expect(hasButtons(message)).toBe(true);
    expect(shown(message)).toContain('2 approvals, covering every role: finance, security');
    // A click then completes it from Slack, and the reviewer is not told the API's approval was theirs.
    expect((await click(message, USERS.sam, 'signoff_approve')).status).toBe(200);
    expect(await approval(id)).toMatchObject({ status: 'approved', resolution: 'Approved by Ana Lima, Sam Okafor' });
    await expect.poll(() => hasButtons(message), { timeout: 5_000 }).toBe(false);
  });

  it('tells the channel once when an agent hits its escalation budget, not per refused call', async () => {
    const eager = client(server.url, BUDGET_AGENT_KEY);
    expect((await eager('POST', '/v1/approvals', { tool: 'refund.issue', args: { order: 'b-1' } })).status).toBe(201);
    for (const order of ['b-2', 'b-3', 'b-4']) {
      const refused = await eager('POST', '/v1/approvals', { tool: 'refund.issue', args: { order } });
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ code: 'ESCALATION_BUDGET_EXCEEDED' });
      expect(refused.body.error.message).toMatch(/escalation budget exceeded: agent 'eager-agent' already has 1 requests waiting for review \(max_pending 1\)/);
    }
    const notices = () => slack.callsTo('chat.postMessage').filter((call) => String(call.params.text).includes('eager-agent hit its escalation budget'));
    await expect.poll(() => notices().length, { timeout: 5_000 }).toBe(1);
    await server.dispatcher.runOnce(); // everything queued is delivered: still one notice
    expect(notices()).toHaveLength(1);
    expect(String(notices()[0]?.params.text)).toContain('max_pending 1');
    const refusals = (await server.store.readAudit()).filter((entry) => entry.type === 'request.refused' && entry.actor === 'eager-agent');
    expect(refusals.map((entry) => entry.detail.reviewersNotified)).toEqual([true, false, false]);
  });

  it('posts a Block Kit message with buttons for a new escalation, escaping what the agent sent', async () => {
    const to = 'acme <@U123> <!channel> <https://evil.example|your bank> & co';
    const { id, message } = await escalate({ tool: 'payment.send', args: { to, amount: 500, memo: 'x'.repeat(6_000) } });
    const post = slack.callsTo('chat.postMessage').find((call) => call.params.metadata?.event_payload?.approval_id === id);
    expect(post?.params).toMatchObject({ channel: CHANNEL, metadata: { event_type: 'signoff_approval' }, unfurl_links: 'false' });
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: 'Approval needed: payment.send' } });
    const text = shown(message);
    expect(text).toContain('2 approvals, covering every role: finance, security');
    expect(text).toContain('Payment of 500 to acme &lt;@U123&gt; &lt;!channel&gt;'); // the reason, escaped
    expect(text).toMatch(/<!date\^\d+\^\{date_short_pretty\} at \{time\}\|/);
    // Who can approve is mentioned (finance and security; not engineering).
    expect(text).toContain('<@U0ANA>');
    expect(text).toContain('<@U0SAM>');
    expect(text).not.toContain('<@U0DEV>');
    // The agent's text can neither mention, ping nor link: only our own `<…>` tokens remain.
    expect(text).not.toContain('<@U123>');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<https://evil');
    expect(text).toContain('&lt;https://evil.example|your bank&gt; &amp; co');
    expect(text).toMatch(/more characters not shown/);
    expect(message.text).not.toMatch(/<[@!h]/);
    // The 6,000-character memo does not fit: no Approve next to args cut short, and no inbox on this server to link to.
    const actions = message.blocks.find((block) => block.type === 'actions');
    expect(actions.elements.map((button: { action_id: string; value: string }) => [button.action_id, button.value])).toEqual([['signoff_deny', id]]);
    expect(text).toContain('*No Approve here:* the args are too long for a Slack message to show whole.');
    expect(text).toContain(`\`signoff approvals show ${id}\``);
  });

  it('keeps one-click Approve and Deny for args that fit the message', async () => {
    const { id, message } = await escalate({ tool: 'payment.send', args: { to: 'acme', amount: 501, memo: 'x'.repeat(2_000) } });
    const actions = message.blocks.find((block) => block.type === 'actions');
    expect(actions.elements.map((button: { action_id: string; value: string }) => [button.action_id, button.value])).toEqual([
      ['signoff_approve', id],
      ['signoff_deny', id],
    ]);
    expect(shown(message)).not.toMatch(/more characters not shown|No Approve here/);
  });

  it('approves through the approval engine once quorum is met, and updates the message with who decided', async () => {
    const { id, message } = await escalate({ tool: 'payment.send', args: { to: 'acme', amount: 900 } });
    expect(await click(message, USERS.ana, 'signoff_approve')).toMatchObject({ status: 200 });
    expect(await approval(id)).toMatchObject({ status: 'pending', decisions: [{ reviewer: 'ana', verdict: 'approve', channel: 'slack' }] });
    await expect.poll(() => shown(message), { timeout: 5_000 }).toContain('1 of 2 — Ana Lima (slack)');
    expect(hasButtons(message)).toBe(true);
    // The reviewer is told privately what is still missing.
    await expect.poll(() => ephemeralsTo(USERS.ana).at(-1), { timeout: 5_000 }).toMatch(/^Your approval was recorded\. Waiting for 1 more approval\(s\): it needs 2 approvals, covering every role: finance, security; so far 1 of 2 approvals/);

    const staleCopy = structuredClone(message); // what a reviewer whose Slack has not refreshed still sees
    expect((await click(message, USERS.sam, 'signoff_approve')).status).toBe(200);
    expect(await approval(id)).toMatchObject({ status: 'approved', granted: true, resolution: 'Approved by Ana Lima, Sam Okafor' });
    await expect.poll(() => hasButtons(message), { timeout: 5_000 }).toBe(false);
    expect(message.blocks[0].text.text).toBe('Approved: payment.send');
    expect(shown(message)).toContain('Approved by Ana Lima, Sam Okafor');
    expect(shown(message)).toContain('Sam Okafor approved via slack');

    // The outbox's resolution delivery finds the message again by its metadata (paging history) and
    // draws the outcome: once — the click that resolved it does not redraw it as well.
    await expect.poll(() => slack.callsTo('conversations.history').length, { timeout: 5_000 }).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let any second redraw arrive, if one were sent
    const outcomeDraws = slack.callsTo('chat.update').filter((call) => call.params.ts === message.ts && JSON.stringify(call.params.blocks).includes('Approved: payment.send'));
    expect(outcomeDraws).toHaveLength(1);
    const audit = (await server.store.readAudit()).filter((entry) => entry.requestId === id && entry.type === 'decision.recorded');
    expect(audit.map((entry) => [entry.actor, entry.channel])).toEqual([
      ['ana', 'slack'],
      ['sam', 'slack'],
    ]);

    // A click on a stale copy is refused privately; the message keeps the outcome.
    const updates = slack.callsTo('chat.update').length;
    expect((await click(staleCopy, USERS.bo, 'signoff_approve')).status).toBe(200);
    await expect.poll(() => ephemeralsTo(USERS.bo).at(-1), { timeout: 5_000 }).toBe('Not counted: the request is already approved.');
    expect(slack.callsTo('chat.update').length).toBeGreaterThan(updates);
    expect(hasButtons(message)).toBe(false);
    expect(await approval(id)).toMatchObject({ decisions: [{ reviewer: 'ana' }, { reviewer: 'sam' }] });
  });

  it('lets one deny veto the request', async () => {
    const { id, message } = await escalate({ tool: 'payment.send', args: { to: 'acme', amount: 700 } });
    await click(message, USERS.ana, 'signoff_approve');
    expect((await click(message, USERS.bo, 'signoff_deny')).status).toBe(200);
    expect(await approval(id)).toMatchObject({ status: 'denied', granted: false, resolution: 'Denied by Bo Berg' });
    await expect.poll(() => message.blocks[0].text.text, { timeout: 5_000 }).toBe('Denied: payment.send');
    expect(shown(message)).toContain('Bo Berg denied via slack');
    expect(hasButtons(message)).toBe(false);
  });

  it('refuses a Slack user who is not a reviewer, privately, without deciding', async () => {
    const { id, message } = await escalate({ tool: 'refund.issue', args: { order: 'o-1' } });
    expect((await click(message, USERS.stranger, 'signoff_approve')).status).toBe(200);
    await expect.poll(() => ephemeralsTo(USERS.stranger).at(-1), { timeout: 5_000 }).toContain('not a Signoff reviewer');
    expect(await approval(id)).toMatchObject({ status: 'pending', decisions: [] });
    const refusal = (await server.store.readAudit()).find((entry) => entry.type === 'access.refused' && entry.requestId === id);
    expect(refusal).toMatchObject({ channel: 'slack', detail: { slackUserId: USERS.stranger } });
  });

  it('answers a forged signature and a stale timestamp with 401, audited', async () => {
    const { id, message } = await escalate({ tool: 'refund.issue', args: { order: 'o-2' } });
    const before = (await server.store.readAudit()).length;
    const forged = await click(message, USERS.ana, 'signoff_approve', { signature: `v0=${'ab'.repeat(32)}` });
    expect(forged.status).toBe(401);
    const stale = await click(message, USERS.ana, 'signoff_approve', { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(stale.status).toBe(401);
    const unsigned = await fetch(interactions, { method: 'POST', body: 'payload=%7B%7D', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(unsigned.status).toBe(401);
    const refusals = (await server.store.readAudit()).slice(before).filter((entry) => entry.type === 'access.refused');
    expect(refusals.map((entry) => [entry.channel, entry.detail.reason])).toEqual([
      ['slack', 'X-Slack-Signature does not match the signing secret'],
      ['slack', expect.stringMatching(/^X-Slack-Request-Timestamp is 30\d s from now/)],
      ['slack', 'missing X-Slack-Request-Timestamp or X-Slack-Signature'],
    ]);
    expect(await approval(id)).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('applies the same rules as the API: self-approval, roles, one decision per reviewer whatever the channel', async () => {
    const { id, message } = await escalate({ tool: 'payment.send', args: { to: 'acme', amount: 300 }, onBehalfOf: 'ana' });
    await click(message, USERS.ana, 'signoff_approve');
    await expect.poll(() => ephemeralsTo(USERS.ana).at(-1), { timeout: 5_000 }).toMatch(/^Not counted: ana asked for this call/);
    await click(message, USERS.dev, 'signoff_approve');
    await expect.poll(() => ephemeralsTo(USERS.dev).at(-1), { timeout: 5_000 }).toMatch(/holds none of the roles/);

    // bo decides in Slack, then again through the API; sam through the API, then again in Slack.
    expect((await click(message, USERS.bo, 'signoff_approve')).status).toBe(200);
    const again = await client(server.url, BO_KEY)('POST', `/v1/approvals/${id}/decision`, { verdict: 'approve' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'DUPLICATE_DECISION' } } });
    const other = await escalate({ tool: 'payment.send', args: { to: 'acme', amount: 301 } });
    expect((await client(server.url, ANA_KEY)('POST', `/v1/approvals/${other.id}/decision`, { verdict: 'approve' })).status).toBe(200);
    await click(other.message, USERS.ana, 'signoff_approve');
    await expect.poll(() => ephemeralsTo(USERS.ana).at(-1), { timeout: 5_000 }).toMatch(/already decided this request/);
    expect((await approval(other.id)).decisions).toHaveLength(1);

    const refusals = (await server.store.readAudit()).filter((entry) => entry.type === 'decision.refused' && [id, other.id].includes(entry.requestId ?? ''));
    expect(refusals.map((entry) => [entry.actor, entry.channel, entry.detail.code])).toEqual([
      ['ana', 'slack', 'SELF_APPROVAL'],
      ['dev', 'slack', 'NOT_AN_APPROVER'],
      ['bo', 'api', 'DUPLICATE_DECISION'],
      ['ana', 'slack', 'DUPLICATE_DECISION'],
    ]);
    expect(await approval(id)).toMatchObject({ status: 'pending', decisions: [{ reviewer: 'bo', channel: 'slack' }] });
  });

  it('approves only the args the message showed: after an edit it redraws the message first', async () => {
    const { id, message } = await escalate({ tool: 'payment.send', args: { to: 'acme', amount: 800 } });
    const approved = await client(server.url, ANA_KEY)('POST', `/v1/approvals/${id}/decision`, { verdict: 'approve', args: { to: 'acme', amount: 400 } });
    expect(approved.status).toBe(200);
    await click(message, USERS.sam, 'signoff_approve');
    await expect.poll(() => ephemeralsTo(USERS.sam).at(-1), { timeout: 5_000 }).toMatch(/args changed/);
    expect(await approval(id)).toMatchObject({ status: 'pending' });
    expect(shown(message)).toContain('Args* (edited by a reviewer)');
    expect(shown(message)).toContain('\\"amount\\": 400');
    expect((await click(message, USERS.sam, 'signoff_approve')).status).toBe(200);
    expect(await approval(id)).toMatchObject({ status: 'approved', approvedArgs: { to: 'acme', amount: 400 } });
  });

  it('updates the message when the deadline resolves the request (the sweeper, through the outbox)', async () => {
    const { id, message } = await escalate({ tool: 'deploy.run', args: { service: 'api' } });
    await expect.poll(async () => (await server.store.getRequest(id))?.status, { timeout: 5_000 }).toBe('expired');
    await expect.poll(() => message.blocks[0].text.text, { timeout: 5_000 }).toBe('Expired: deploy.run');
    expect(shown(message)).toContain('(refused)');
    expect(hasButtons(message)).toBe(false);
  });

  it('retries a failed Slack call from the outbox, posting once', async () => {
    slack.failNext('chat.postMessage', 500, (params) => JSON.stringify(params.blocks).includes('o-retry'));
    const created = await agent('POST', '/v1/approvals', { tool: 'refund.issue', args: { order: 'o-retry' } });
    const attempts = () => slack.callsTo('chat.postMessage').filter((call) => JSON.stringify(call.params.blocks).includes('o-retry'));
    await expect.poll(() => attempts().map((call) => call.status), { timeout: 8_000 }).toEqual([500, 200]);
    expect(slack.messages.filter((message) => message.metadata?.event_payload.approval_id === created.body.id)).toHaveLength(1);
  });

  it('keeps an audit chain that verifies', async () => {
    expect(verifyAuditChain(await server.store.readAudit())).toBeUndefined();
  });
});
