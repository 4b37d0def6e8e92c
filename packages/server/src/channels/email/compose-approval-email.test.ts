import type { ApprovalRequest } from '@signoff/core';
import { describe, expect, it } from 'vitest';
import { pendingRequest as requestWith } from '../__fixtures__/pending-request.js';
import { composeApprovalEmail, emailShowsArgsWhole } from './compose-approval-email.js';

const compose = (request: ApprovalRequest, extra: Partial<Parameters<typeof composeApprovalEmail>[0]> = {}) =>
  composeApprovalEmail({
    request,
    reviewer: { id: 'ana', name: 'Ana', roles: ['finance'] },
    approveUrl: 'https://signoff.example.com/email/decide?token=approve',
    denyUrl: 'https://signoff.example.com/email/decide?token=deny',
    linksExpireAt: new Date('2030-01-01T00:30:00.000Z'),
    now: new Date('2030-01-01T00:00:00.000Z'),
    ...extra,
  });

describe('composeApprovalEmail', () => {
  it('keeps the Approve link for args it shows whole', () => {
    const email = compose(requestWith({ to: 'acme', amount: 500 }));
    expect(email.text).toContain('Approve: https://signoff.example.com/email/decide?token=approve');
    expect(email.html).toContain('href="https://signoff.example.com/email/decide?token=approve"');
    expect(email.text).not.toContain('Review in the inbox');
  });

  it('shows the deadline readably, not as a raw ISO timestamp', () => {
    const request = requestWith({ to: 'acme', amount: 500 });
    const email = compose(request);
    const readable = `${request.expiresAt.slice(0, 10)} ${request.expiresAt.slice(11, 16)} UTC`;
    expect(email.text).toContain(`Deadline: ${readable}`);
    expect(email.text).not.toContain(request.expiresAt);
  });

  it('offers no Approve for args longer than it shows: Deny, and the inbox page to review them whole', () => {
    const request = requestWith({ memo: 'x'.repeat(116_000), to: 'mallory', amount: 5_000 });
    expect(emailShowsArgsWhole(request.approvedArgs)).toBe(false);
    const email = compose(request, { inboxBaseUrl: 'https://signoff.example.com', testedPaths: ['args.amount', 'args.to'] });
    for (const part of [email.text, email.html]) {
      expect(part).not.toContain('token=approve');
      expect(part).toContain('https://signoff.example.com/email/decide?token=deny');
      expect(part).toContain('https://signoff.example.com/inbox/requests/apr_0123456789abcdef');
      expect(part).toContain('This email cannot show the whole args, so it cannot approve them.');
    }
    expect(email.text).toMatch(/^Review in the inbox: https:\/\/signoff\.example\.com\/inbox\/requests\/apr_0123456789abcdef$/m);
    expect(email.html).toMatch(/>Review in the inbox<\/a>/);
    expect(email.text).toContain('more characters not shown');

    const withoutInbox = compose(request);
    expect(withoutInbox.text).not.toContain('token=approve');
    expect(withoutInbox.text).toContain('`signoff approvals show apr_0123456789abcdef`');
  });

  it('shows the fields the deciding rule tested first, in the text and the HTML', () => {
    const email = compose(requestWith({ memo: 'x'.repeat(116_000), to: 'mallory', amount: 5_000 }), { testedPaths: ['args.amount', 'args.to'] });
    expect(email.text).toContain('Args (amount, to first: rule big-payments checks them) — too long to show whole here (the first 5,000 characters):\n{\n  "amount": 5000,\n  "to": "mallory",\n  "memo": "xxx');
    expect(email.html).toContain('{\n  &quot;amount&quot;: 5000,\n  &quot;to&quot;: &quot;mallory&quot;,\n  &quot;memo&quot;: &quot;xxx');
  });

  it('shows hidden and direction-changing characters in the tool, reason and args as escapes', () => {
    const request = requestWith({ to: 'mallory\u202e', memo: 'a\u200bb\u2066c' }, { tool: 'pay\u200fment.send', reason: 'Pay \u202emallory\u202c now\nApprove: https://evil.example' });
    const email = compose(request);
    for (const part of [email.subject, email.text, email.html]) expect(part).not.toMatch(/[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/);
    expect(email.subject).toBe('Approval needed: pay\\u200fment.send');
    expect(email.text).toContain('"to": "mallory\\u202e"');
    expect(email.text).toContain('"memo": "a\\u200bb\\u2066c"');
    // A line break in the reason cannot forge a line of the mail (a second Approve link).
    expect(email.text).toContain('Reason: Pay \\u202emallory\\u202c now\\u000aApprove: https://evil.example');
    expect(email.text.match(/^Approve: /gm)).toHaveLength(1);
    expect(email.html).toContain('&quot;to&quot;: &quot;mallory\\u202e&quot;');
    expect(email.html).toContain('Pay \\u202emallory\\u202c now');
  });
});
