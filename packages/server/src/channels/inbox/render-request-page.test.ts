import { hashArgs } from '@signoff/core';
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
    expect(page).toContain('<button type="submit" name="verdict" value="approve" class="approve">Approve</button>');
  });

  it('decides in one form: one comment box, the argsHash the page showed, Approve and Deny as its two buttons', () => {
    const page = render(pendingRequest({ to: 'acme', amount: 500 }));
    expect(page.match(/<form[^>]*action="\/inbox\/requests\/apr_0123456789abcdef\/decide"/g)).toHaveLength(1);
    expect(page.match(/<textarea[^>]*name="comment"/g)).toHaveLength(1);
    const form = /<form[^>]*\/decide"[\s\S]*?<\/form>/.exec(page)?.[0] as string;
    expect(form).toContain(`<input type="hidden" name="argsHash" value="${pendingRequest({ to: 'acme', amount: 500 }).approvedArgsHash}">`);
    expect(form).toContain('<button type="submit" name="verdict" value="approve" class="approve">Approve</button>');
    expect(form).toContain('<button type="submit" name="verdict" value="deny" class="deny">Deny</button>');
    expect(form).not.toContain('name="verdict" type="hidden"');
  });

  it("shows a reviewer's edit as a diff against the agent's args: each changed field, old → new", () => {
    const agent = { to: 'acme', amount: 500, memo: 'Invoice 7' };
    const edited = { to: 'acme', amount: 450, memo: 'Invoice 7', note: 'capped' };
    const page = render(pendingRequest(agent, { approvedArgs: edited, approvedArgsHash: hashArgs(edited) }));
    expect(page).toContain('2 fields changed from what the agent sent');
    expect(page).toContain('<li><code>amount</code>: <del>500</del> → <ins>450</ins></li>');
    expect(page).toContain('<li><code>note</code>: <span class="note">(not sent)</span> → <ins>&quot;capped&quot;</ins></li>');
    expect(page).not.toMatch(/<code>to<\/code>:|<code>memo<\/code>:/);
    expect(render(pendingRequest(agent))).not.toContain('changed from what the agent sent');
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
