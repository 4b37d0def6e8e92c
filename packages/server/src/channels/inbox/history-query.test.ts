import { describe, expect, it } from 'vitest';
import { encodeListCursor, historyHref, parseHistoryQuery } from './history-query.js';

describe('the history form’s query string', () => {
  it('becomes a store filter: resolved by default, whole UTC days, the cursor as a keyset position', () => {
    expect(parseHistoryQuery({})).toMatchObject({ ok: true, filter: { statuses: ['approved', 'executed', 'denied', 'expired'] } });
    expect(parseHistoryQuery({ status: 'any' })).toMatchObject({ ok: true, filter: {} });
    const cursor = encodeListCursor({ createdAt: '2026-12-01T10:00:00.000Z', id: 'apr_0123456789abc' } as never);
    const parsed = parseHistoryQuery({ status: 'denied', tool: ' payment.send ', agent: 'billing-bot', reviewer: 'ana', from: '2026-12-01', to: '2026-12-01', q: 'acme', cursor });
    expect(parsed).toEqual({
      ok: true,
      query: { status: 'denied', tool: 'payment.send', agent: 'billing-bot', reviewer: 'ana', from: '2026-12-01', to: '2026-12-01', q: 'acme' },
      filter: {
        status: 'denied',
        tool: 'payment.send',
        requester: 'billing-bot',
        reviewer: 'ana',
        createdSince: '2026-12-01T00:00:00.000Z',
        createdUntil: '2026-12-02T00:00:00.000Z',
        search: 'acme',
        before: { createdAt: '2026-12-01T10:00:00.000Z', id: 'apr_0123456789abc' },
      },
    });
    expect(historyHref(parsed.query, 'abc')).toBe('/inbox/history?status=denied&tool=payment.send&agent=billing-bot&reviewer=ana&from=2026-12-01&to=2026-12-01&q=acme&cursor=abc');
  });

  it('refuses what it cannot read, naming the field', () => {
    expect(parseHistoryQuery({ status: 'approved-ish' })).toMatchObject({ ok: false, field: 'status' });
    expect(parseHistoryQuery({ from: '2026-02-30' })).toMatchObject({ ok: false, field: 'from' });
    expect(parseHistoryQuery({ to: 'tomorrow' })).toMatchObject({ ok: false, field: 'to' });
    expect(parseHistoryQuery({ from: '2026-12-02', to: '2026-12-01' })).toMatchObject({ ok: false, field: 'to', message: 'to: the last day is before the first day' });
    expect(parseHistoryQuery({ q: 'x'.repeat(201) })).toMatchObject({ ok: false, field: 'q' });
    expect(parseHistoryQuery({ cursor: 'not-a-cursor' })).toMatchObject({ ok: false, field: 'cursor' });
  });
});
