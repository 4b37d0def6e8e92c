import { describe, expect, it } from 'vitest';
import { pendingRequest } from '../__fixtures__/pending-request.js';
import { renderHistoryPage, renderPendingPage } from './inbox-pages.js';

const viewer = { reviewer: { id: 'ana', name: 'Ana', roles: ['finance'] }, logoutToken: 'l' };
const now = new Date('2030-01-01T00:00:00.000Z');

describe('the inbox lists', () => {
  it('say on each row what tells it apart: the values of the fields its rule tested', () => {
    const requests = [
      pendingRequest({ to: 'acme', amount: 4_800, memo: 'x' }, { id: 'apr_aaaaaaaaaaaaaaaa' }),
      pendingRequest({ to: 'mallory\u202e', amount: 9_100, memo: 'y' }, { id: 'apr_bbbbbbbbbbbbbbbb' }),
      pendingRequest({ to: 'globex' }, { id: 'apr_cccccccccccccccc', ruleId: 'other' }),
    ];
    const testedPathsOf = (ruleId: string | null | undefined) => (ruleId === 'big-payments' ? ['args.amount', 'args.to', 'args.missing'] : []);
    const page = renderPendingPage({ viewer, requests, now, testedPathsOf }).value;
    expect(page).toContain('<div class="tested"><span>amount <code>4800</code></span> · <span>to <code>acme</code></span></div>');
    expect(page).toContain('<span>to <code>mallory\\u202e</code></span>');
    expect(page.match(/class="tested"/g)).toHaveLength(2);
    const history = renderHistoryPage({ viewer, requests: [{ ...requests[0]!, status: 'denied' }], now, testedPathsOf }).value;
    expect(history).toContain('<span>amount <code>4800</code></span>');
  });
});
