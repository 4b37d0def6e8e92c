import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a request's `X-Slack-Request-Timestamp` may be from our clock (Slack's own advice: 5 minutes). */
export const SLACK_SIGNATURE_WINDOW_SECONDS = 300;

export interface SlackSignatureInput {
  /** The app's signing secret. */
  readonly signingSecret: string;
  /** `X-Slack-Request-Timestamp` (Unix seconds). */
  readonly timestamp: string | undefined;
  /** `X-Slack-Signature` (`v0=<hex>`). */
  readonly signature: string | undefined;
  /** The raw request body, exactly as received. */
  readonly body: Buffer;
  readonly now: Date;
}

/** Whether a request came from Slack; when not, why (for the audit log and the 401). */
export type SlackSignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` under the signing secret — what Slack sends as
 * `X-Slack-Signature`.
 *
 * @example
 * const signature = signSlackRequest(secret, String(Math.floor(Date.now() / 1000)), body);
 */
export function signSlackRequest(signingSecret: string, timestamp: string, body: Buffer | string): string {
  const mac = createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(body).digest('hex');
  return `v0=${mac}`;
}

/**
 * Checks Slack's request signature (timing-safe) and that the timestamp is within five minutes,
 * so a captured request cannot be replayed later.
 *
 * @example
 * const check = verifySlackSignature({ signingSecret, timestamp: headers['x-slack-request-timestamp'], signature: headers['x-slack-signature'], body, now: new Date() });
 * if (!check.ok) return new Response(check.reason, { status: 401 });
 */
export function verifySlackSignature(input: SlackSignatureInput): SlackSignatureCheck {
  const { timestamp, signature } = input;
  if (timestamp === undefined || signature === undefined) return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  if (!/^\d{1,12}$/.test(timestamp) || !/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed X-Slack-Request-Timestamp or X-Slack-Signature' };
  const expected = Buffer.from(signSlackRequest(input.signingSecret, timestamp, input.body));
  if (!timingSafeEqual(expected, Buffer.from(signature))) return { ok: false, reason: 'X-Slack-Signature does not match the signing secret' };
  // Checked after the signature, so the audit log tells a replay (valid but old) from a forgery.
  const skew = Math.abs(input.now.getTime() / 1000 - Number(timestamp));
  if (skew > SLACK_SIGNATURE_WINDOW_SECONDS) return { ok: false, reason: `X-Slack-Request-Timestamp is ${Math.round(skew)} s from now (more than ${SLACK_SIGNATURE_WINDOW_SECONDS} s)` };
  return { ok: true };
}
