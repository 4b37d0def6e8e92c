import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalControlPlane, type LocalControlPlane } from '../../local-control-plane.js';

const POLICY = `version: 1
default: deny
rules:
  - { id: payments, tool: payment.send, action: escalate, metadata: { approver_roles: [finance], approval_timeout_minutes: 30 } }
  - { id: deploys, tool: deploy.run, action: escalate, metadata: { approver_roles: [security], approval_timeout_minutes: 30 } }
`;

let controlPlane: LocalControlPlane;
let cookie = '';
beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy: POLICY, inbox: {} });
  // 120 payments for ana, then 200 newer deploys for others: ana's inbox pages through hers.
  for (const [tool, count] of [['payment.send', 120], ['deploy.run', 200]] as const) {
    for (let index = 0; index < count; index += 1) {
      await fetch(`${controlPlane.url}/v1/approvals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${controlPlane.agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool, args: { index } }),
      });
    }
  }
  const login = await fetch(`${controlPlane.url}/inbox/login`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())?.[1] ?? '';
  const signedIn = await fetch(`${controlPlane.url}/inbox/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: login.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ') },
    body: new URLSearchParams({ csrf, next: '/inbox', key: controlPlane.reviewerKey('ana') }).toString(),
  });
  cookie = signedIn.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
}, 120_000);
afterAll(async () => controlPlane?.close());

/** An inbox page as ana sees it: its request ids and its Next / Previous links. */
async function inboxPage(path: string) {
  const response = await fetch(`${controlPlane.url}${path}`, { headers: { cookie } });
  const text = await response.text();
  const link = (rel: string) => new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(text)?.[1]?.replaceAll('&amp;', '&');
  return { status: response.status, text, ids: [...text.matchAll(/href="\/inbox\/requests\/(apr_[\w-]+)"/g)].map((match) => match[1]), next: link('next'), previous: link('prev') };
}

describe('the web inbox, a page at a time', () => {
  it('shows 50 requests a page with the total, and Next / Previous links that walk every request once', async () => {
    const first = await inboxPage('/inbox');
    expect(first.status).toBe(200);
    expect(first.text).toContain('Waiting for you (120)');
    expect(first.ids).toHaveLength(50);
    expect(first.previous).toBeUndefined();
    const second = await inboxPage(first.next as string);
    const third = await inboxPage(second.next as string);
    expect([second.ids.length, third.ids.length]).toEqual([50, 20]);
    expect(third.next).toBeUndefined();
    expect(new Set([...first.ids, ...second.ids, ...third.ids]).size).toBe(120);
    // Previous from the third page is the second, and from the second the first.
    expect((await inboxPage(third.previous as string)).ids).toEqual(second.ids);
    const back = await inboxPage(second.previous as string);
    expect(back.ids).toEqual(first.ids);
    expect(back.previous).toBeUndefined();
    // A cursor that is not ours reads as the first page.
    expect((await inboxPage('/inbox?cursor=bm90LW91cnM')).ids).toEqual(first.ids);
  });
});
