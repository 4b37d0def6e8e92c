import { describe, expect, it } from 'vitest';
import { SignoffError } from '../errors/signoff-error.js';
import { createSignoff } from './create-signoff.js';
import { createReviewerClient } from './create-reviewer-client.js';

const POLICY = 'version: 1\ndefault: deny\nrules:\n  - { id: pay, tool: payment_send, action: escalate }\n  - { id: refund, tool: refund_create, action: allow, when: { args.amount: { lt: 100 } } }\n';

describe('what the control-plane clients refuse before sending', () => {
  it('refuses a control plane URL that cannot work at creation, with CONFIG_INVALID', () => {
    for (const url of ['not a url', 'ftp://127.0.0.1:8787', '']) {
      expect(() => createSignoff({ policy: POLICY, controlPlane: { url, apiKey: 'k' } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
      expect(() => createReviewerClient({ url, apiKey: 'k' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  it('fails args that are not JSON once with INVALID_ARGUMENT, sending nothing and retrying nothing', async () => {
    let sent = 0;
    const fetch = async () => {
      sent += 1;
      return new Response('{}', { status: 503 });
    };
    const signoff = createSignoff({ policy: POLICY, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'k', fetch, retryDelayMs: 1 } });
    const cyclic: Record<string, unknown> = { amount: 1 };
    cyclic.self = cyclic;
    for (const args of [{ amount: 10n }, cyclic]) {
      const authorization = await signoff.authorize('payment_send', args);
      expect(authorization).toMatchObject({ granted: false, errorCode: 'INVALID_ARGUMENT' });
      await expect(signoff.requestApproval(signoff.guard('payment_send', args))).rejects.toSatisfy((error) => SignoffError.isInstance(error) && error.code === 'INVALID_ARGUMENT');
    }
    expect(sent).toBe(0);
  });

  it('never throws from authorize(): args that throw when read are denied with INVALID_ARGUMENT', async () => {
    let sent = 0;
    const fetch = async () => ((sent += 1), new Response('{}', { status: 503 }));
    const signoff = createSignoff({ policy: POLICY, controlPlane: { url: 'http://127.0.0.1:9', apiKey: 'k', fetch } });
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); }, has: () => { throw new Error('trap'); } });
    const authorization = await signoff.authorize('refund_create', hostile);
    // Plain reads only: a matcher walking the result would touch the Proxy in `args`.
    expect([authorization.granted, authorization.errorCode, authorization.decision.action]).toEqual([false, 'INVALID_ARGUMENT', 'deny']);
    expect(authorization.reason).toContain('could not be read (trap)');
    expect(sent).toBe(0);
  });
});

