import { describe, expect, it } from 'vitest';
import { signSlackRequest, verifySlackSignature } from './verify-slack-signature.js';

// Slack's documented example (https://docs.slack.dev/authentication/verifying-requests-from-slack).
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY = Buffer.from(
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
);
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const at = (seconds: number) => new Date(seconds * 1000);

describe('verifySlackSignature', () => {
  it("matches Slack's documented example", () => {
    expect(signSlackRequest(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
    expect(verifySlackSignature({ signingSecret: SECRET, timestamp: TIMESTAMP, signature: SIGNATURE, body: BODY, now: at(1531420618 + 299) })).toEqual({ ok: true });
  });

  it('refuses a changed body, another secret, a malformed or missing header, and a timestamp outside 5 minutes', () => {
    const check = (overrides: Partial<Parameters<typeof verifySlackSignature>[0]>) =>
      verifySlackSignature({ signingSecret: SECRET, timestamp: TIMESTAMP, signature: SIGNATURE, body: BODY, now: at(1531420618), ...overrides });
    expect(check({ body: Buffer.concat([BODY, Buffer.from('&x=1')]) })).toMatchObject({ ok: false, reason: expect.stringContaining('does not match') });
    expect(check({ signingSecret: `${SECRET}0` })).toMatchObject({ ok: false });
    expect(check({ signature: 'v1=abc' })).toMatchObject({ ok: false, reason: expect.stringContaining('malformed') });
    expect(check({ timestamp: undefined })).toMatchObject({ ok: false, reason: expect.stringContaining('missing') });
    expect(check({ now: at(1531420618 + 301) })).toMatchObject({ ok: false, reason: expect.stringContaining('301 s from now') });
    expect(check({ now: at(1531420618 - 301) })).toMatchObject({ ok: false });
  });
});
