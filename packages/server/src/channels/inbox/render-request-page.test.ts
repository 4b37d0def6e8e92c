import { describe, expect, it } from 'vitest';
import { pendingRequest } from '../__fixtures__/pending-request.js';
import { renderRequestPage } from './render-request-page.js';

const reviewer = { id: 'ana', name: 'Ana', roles: ['finance'] };
const render = (request: ReturnType<typeof pendingRequest>, testedPaths: readonly string[] = []) =>
  renderRequestPage({ viewer: { reviewer, logoutToken: 'l' }, request, now: new Date('2030-01-01T00:00:00.000Z'), decideToken: 'd', reviewerById: () => reviewer, testedPaths }).value;

describe('the inbox request page', () => {
  it('shows args whole however long, the tested fields first, in a box that scrolls, with Approve', () => {
    const args = { memo: 'x'.repeat(240_000), to: 'mallory', amount: 5_000 };
    const page = render(pendingRequest(args), ['args.amount', 'args.to']);
    const shown = /<pre class="args">([^<]*)<\/pre>/.exec(page)?.[1] as string;
    expect(shown.replaceAll('&quot;', '"')).toBe(JSON.stringify({ amount: 5_000, to: 'mallory', memo: args.memo }, null, 2));
    expect(page).not.toContain('more characters not shown');
    expect(page).toContain('(amount, to first: rule big-payments checks them)');
    expect(page).toContain('<button type="submit" class="approve">Approve</button>');
  });

  it('shows hidden characters as escapes in the tool, reason, args, context and the edit box, which still parses to the args', () => {
    const args = { to: 'mallory\u202e', memo: 'a\u200bb\ufeff' };
    const page = render(pendingRequest(args, { tool: 'pay\u200fment.send', reason: 'Pay \u202emallory', context: { user: 'al\u2066ice' } }));
    expect(page).not.toMatch(/[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/);
    expect(page).toContain('<code>pay\\u200fment.send</code>');
    expect(page).toContain('Pay \\u202emallory');
    expect(page).toContain('&quot;user&quot;: &quot;al\\u2066ice&quot;');
    const editBox = /<textarea id="approve-args"[^>]*>([^<]*)<\/textarea>/.exec(page)?.[1] as string;
    expect(editBox).toContain('mallory\\u202e');
    expect(JSON.parse(editBox.replaceAll('&quot;', '"'))).toEqual(args);
  });
});
