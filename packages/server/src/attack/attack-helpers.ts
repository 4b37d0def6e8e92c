import type { AuditEntry } from '../audit/audit-event.js';
import type { Store } from '../store/store.js';

/**
 * Remembers how long the audit log is now; `added()` returns the entries appended since.
 * Every attack reads the log before and after, so a case sees only what its own attack caused.
 */
export async function auditMark(store: Store): Promise<{ added(): Promise<AuditEntry[]> }> {
  const before = (await store.readAudit()).length;
  return { added: async () => (await store.readAudit()).slice(before) };
}

/** The fields a case asserts on: type, channel, actor, and the refusal code or reason. */
export const summary = (entry: AuditEntry) => ({
  type: entry.type,
  channel: entry.channel,
  actor: entry.actor,
  ...(entry.requestId ? { requestId: entry.requestId } : {}),
  code: entry.detail.code,
  reason: entry.detail.reason,
});

export interface BrowserPage {
  readonly status: number;
  readonly location: string | null;
  readonly text: string;
}

/** A cookie-keeping form client: what a browser sends to the inbox, and no more. */
export function formBrowser(baseUrl: string) {
  const cookies = new Map<string, string>();
  async function request(method: 'GET' | 'POST', path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<BrowserPage> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(cookies.size ? { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [name, value] = (line.split(';')[0] as string).split(/=(.*)/s) as [string, string];
      if (/max-age=0/i.test(line) || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    return { status: response.status, location: response.headers.get('location'), text: await response.text() };
  }
  return {
    cookies,
    get: (path: string, headers?: Record<string, string>) => request('GET', path, undefined, headers),
    post: (path: string, form: Record<string, string>, headers?: Record<string, string>) => request('POST', path, form, headers),
    async signIn(key: string): Promise<BrowserPage> {
      const login = await request('GET', '/inbox/login');
      return request('POST', '/inbox/login', { csrf: csrfFor(login.text, '/inbox/login'), next: '/inbox', key });
    },
  };
}

/** The CSRF token of the form posting to `action`. */
export function csrfFor(page: string, action: string): string {
  const form = new RegExp(`<form[^>]*action="${action}"[^>]*>[\\s\\S]*?name="csrf" value="([^"]+)"`).exec(page);
  if (!form) throw new Error(`no form posting to ${action} in:\n${page}`);
  return form[1] as string;
}
