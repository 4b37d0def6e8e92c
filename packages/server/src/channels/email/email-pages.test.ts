import { describe, expect, it } from 'vitest';
import { pendingRequest } from '../__fixtures__/pending-request.js';
import { confirmPageShowsArgsWhole, renderConfirmPage, renderResultPage } from './email-pages.js';

const reviewer = { id: 'ana', name: 'Ana', roles: ['finance'] };
const now = new Date('2030-01-01T00:00:00.000Z');
const padded = pendingRequest({ memo: 'x'.repeat(116_000), to: 'mallory', amount: 5_000 });

describe('the email confirm page', () => {
  it('keeps its Approve button for args it shows whole', () => {
    const page = renderConfirmPage({ request: pendingRequest({ to: 'acme', amount: 500 }), reviewer, verdict: 'approve', token: 't', now }).value;
    expect(page).toContain('<button type="submit" class="approve">Approve</button>');
    expect(page).toMatch(/<form method="post" action="decide">/);
  });

  it('has no Approve button for args longer than it shows, only the way to the inbox; Deny keeps its button', () => {
    expect(confirmPageShowsArgsWhole(padded.approvedArgs)).toBe(false);
    const approve = renderConfirmPage({ request: padded, reviewer, verdict: 'approve', token: 't', now, inboxBaseUrl: 'https://signoff.example.com' }).value;
    expect(approve).not.toMatch(/<form|<button/);
    expect(approve).toContain('<a href="https://signoff.example.com/inbox/requests/apr_0123456789abcdef">Review them whole in the inbox</a>');
    expect(approve).toContain('too long to show whole here (the first 20,000 characters)');
    const withoutInbox = renderConfirmPage({ request: padded, reviewer, verdict: 'approve', token: 't', now }).value;
    expect(withoutInbox).not.toMatch(/<form|<button/);
    expect(withoutInbox).toContain('`signoff approvals show apr_0123456789abcdef`');
    const deny = renderConfirmPage({ request: padded, reviewer, verdict: 'deny', token: 't', now }).value;
    expect(deny).toContain('<button type="submit" class="deny">Deny</button>');
  });

  it('shows the tested fields first and hidden characters as escapes, on the confirm and result pages', () => {
    const request = pendingRequest({ memo: 'a\u200bb', to: 'mallory\u202e', amount: 5_000 }, { tool: 'pay\u200fment.send', reason: 'Pay \u2066mallory\u2069' });
    for (const page of [
      renderConfirmPage({ request, reviewer, verdict: 'deny', token: 't', now, testedPaths: ['args.amount', 'args.to'] }).value,
      renderResultPage({ title: 'Denied', message: 'Your denial was recorded.', tone: 'good', request, now, testedPaths: ['args.amount', 'args.to'] }).value,
    ]) {
      expect(page).not.toMatch(/[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/);
      expect(page).toContain('{\n  &quot;amount&quot;: 5000,\n  &quot;to&quot;: &quot;mallory\\u202e&quot;,\n  &quot;memo&quot;: &quot;a\\u200bb&quot;\n}');
      expect(page).toContain('Pay \\u2066mallory\\u2069');
      expect(page).toContain('(amount, to first: rule big-payments checks them)');
    }
  });
});
