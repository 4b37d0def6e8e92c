import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServerConfig, sha256Hex } from '../../config/server-config.js';

const directory = mkdtempSync(join(tmpdir(), 'signoff-slack-config-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Loads a config whose `slack:` section is `slackLines`; reviewers may carry Slack ids. */
function load(slackLines: string[], env: NodeJS.ProcessEnv = {}, reviewerSlackIds: [string, string] = ['U0ANA', 'U0BO']) {
  const file = join(directory, `signoff-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    [
      'policy: policy.yaml',
      'slack:',
      ...slackLines.map((line) => `  ${line}`),
      'reviewers:',
      `  - { id: ana, name: Ana, roles: [finance], slack_user_id: ${reviewerSlackIds[0]} }`,
      `  - { id: bo, name: Bo, roles: [finance], slack_user_id: ${reviewerSlackIds[1]} }`,
      'api_keys:',
      `  - { name: agent, kind: agent, key_sha256: "${sha256Hex('sk_agent_key_0123456789')}" }`,
    ].join('\n'),
  );
  return () => loadServerConfig(file, env);
}

describe('the slack: config section', () => {
  it('reads secrets from the environment and defaults the API URL', () => {
    const config = load(['bot_token_env: SLACK_BOT_TOKEN', 'signing_secret_env: SLACK_SIGNING_SECRET', 'channel: C0123456789'], {
      SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
      SLACK_SIGNING_SECRET: '0123456789abcdef0123456789abcdef',
    })();
    expect(config.slack).toEqual({ botToken: 'xoxb-1-2-abc', signingSecret: '0123456789abcdef0123456789abcdef', channel: 'C0123456789', apiUrl: 'https://slack.com/api/' });
    const inline = load(['bot_token: xoxb-1-2-abc', 'signing_secret: 0123456789abcdef0123456789abcdef', 'channel: G0123456789', 'api_url: http://127.0.0.1:9/api'])();
    expect(inline.slack?.apiUrl).toBe('http://127.0.0.1:9/api/');
  });

  it.each([
    [['signing_secret: 0123456789abcdef0123456789abcdef', 'channel: C0123456789'], {}, /expected exactly one of bot_token or bot_token_env/],
    [['bot_token_env: NOPE', 'signing_secret: 0123456789abcdef0123456789abcdef', 'channel: C0123456789'], {}, /environment variable NOPE must hold a bot token/],
    [['bot_token: xoxp-user-token', 'signing_secret: 0123456789abcdef0123456789abcdef', 'channel: C0123456789'], {}, /:3:\d+.*expected a bot token \(xoxb-…\)/],
    [['bot_token: xoxb-1-2-abc', 'signing_secret_env: UNSET', 'channel: C0123456789'], {}, /environment variable UNSET must hold the Slack signing secret/],
    [['bot_token: xoxb-1-2-abc', 'signing_secret: 0123456789abcdef0123456789abcdef', 'channel: "#approvals"'], {}, /expected a channel ID like C0123456789, not a #name/],
    [['bot_token: xoxb-1-2-abc', 'signing_secret: 0123456789abcdef0123456789abcdef', 'channel: C0123456789', 'token: x'], {}, /token/],
  ])('refuses %j with a located message', (lines, env, message) => {
    expect(load(lines, env)).toThrow(message);
  });

  it('refuses one Slack user mapped to two reviewers', () => {
    const lines = ['bot_token: xoxb-1-2-abc', 'signing_secret: 0123456789abcdef0123456789abcdef', 'channel: C0123456789'];
    expect(load(lines, {}, ['U0SAME', 'U0SAME'])).toThrow(/Slack user U0SAME is already reviewer 'ana'/);
  });
});
