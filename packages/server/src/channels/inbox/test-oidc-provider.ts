import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type ClientMetadata } from 'oidc-provider';

/** A person the provider knows: the login typed on its dev sign-in page is the account id (`sub`). */
export interface TestOidcAccount {
  readonly email?: string;
  readonly emailVerified?: boolean;
}

export interface TestOidcProvider {
  /** The issuer, e.g. `http://127.0.0.2:41234`. */
  readonly issuer: string;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider (`oidc-provider`, the certified Node implementation) on a loopback
 * address, with its development sign-in and consent pages: any login and password sign in as the
 * account of that login. For the inbox's sign-in tests, in Chromium and over HTTP; one fixture for all.
 * It listens on `127.0.0.2` by default, another site than the inbox's `127.0.0.1`, so cookies behave as
 * they do between a real provider and a real server.
 *
 * @example
 * const provider = await startTestOidcProvider({ clients: [{ client_id: 'signoff', token_endpoint_auth_method: 'none', redirect_uris: [...] }], accounts: { ana: { email: 'ana@example.com' } } });
 */
export async function startTestOidcProvider(options: {
  readonly clients: readonly ClientMetadata[];
  readonly accounts: Readonly<Record<string, TestOidcAccount>>;
  readonly host?: string;
  /** ID token lifetime in seconds (default 3600). */
  readonly idTokenSeconds?: number;
  /**
   * Changes every ID token the token endpoint returns, as an attacker between the relying party
   * and the provider would (the provider then sits behind a proxy that does it; it signs nothing anew).
   */
  readonly alterIdToken?: (idToken: string) => string;
}): Promise<TestOidcProvider> {
  const host = options.host ?? '127.0.0.2';
  // Listen first: the issuer URL must carry the port the provider is reached at.
  let handler: Parameters<typeof createServer>[1] = (_request, response) => response.writeHead(503).end();
  const server: Server = createServer((request, response) => handler?.(request, response));
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}`;
  let inner: Server | undefined;
  const provider = new Provider(issuer, {
    clients: options.clients.map((client) => ({ ...client })),
    async findAccount(_context, id) {
      const account = options.accounts[id];
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...(account?.email ? { email: account.email, email_verified: account.emailVerified ?? true } : {}) };
        },
      };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    ttl: { IdToken: options.idTokenSeconds ?? 3_600, AccessToken: 600, Interaction: 600, Session: 3_600, Grant: 3_600 },
    cookies: { keys: ['signoff-test-oidc-provider-cookie-key'] },
  });
  handler = provider.callback();
  const alter = options.alterIdToken;
  if (alter) {
    // The provider itself listens elsewhere; the issuer's address forwards to it and alters token responses.
    // It builds its endpoint URLs from the forwarded host, so every call comes through here.
    provider.proxy = true;
    const providerServer = createServer(provider.callback());
    inner = providerServer;
    await new Promise<void>((resolve) => providerServer.listen(0, host, () => resolve()));
    const innerOrigin = `http://${host}:${(providerServer.address() as AddressInfo).port}`;
    handler = (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const headers = Object.fromEntries(Object.entries(request.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'content-length'));
        const forwarded = await fetch(`${innerOrigin}${request.url}`, { method: request.method ?? 'GET', headers: { ...headers, 'x-forwarded-host': new URL(issuer).host, 'x-forwarded-proto': 'http' }, redirect: 'manual', ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
        let body = Buffer.from(await forwarded.arrayBuffer());
        if (request.url?.startsWith('/token') && forwarded.ok) {
          const json = JSON.parse(body.toString('utf8')) as { id_token?: string };
          if (json.id_token) body = Buffer.from(JSON.stringify({ ...json, id_token: alter(json.id_token) }));
        }
        const out: Record<string, string | string[]> = {};
        forwarded.headers.forEach((value, name) => {
          if (!['content-length', 'content-encoding', 'transfer-encoding', 'set-cookie'].includes(name)) out[name] = value;
        });
        const cookies = forwarded.headers.getSetCookie();
        if (cookies.length) out['set-cookie'] = cookies;
        response.writeHead(forwarded.status, out).end(body);
      });
    };
  }
  return {
    issuer,
    close: async () => {
      for (const each of [server, inner]) {
        if (!each) continue;
        each.closeAllConnections();
        await new Promise<void>((resolve) => each.close(() => resolve()));
      }
    },
  };
}

/**
 * Signs in at the provider's own pages as a browser would — follows its redirects, keeps its
 * cookies, posts the dev sign-in form as `login`, then the consent form — and returns the URL the
 * provider sends the browser back to (the relying party's redirect URI with `code` and `state`).
 *
 * @example
 * const callback = await signInAtProvider(authorizationUrl, 'ana');
 */
export async function signInAtProvider(authorizationUrl: string | URL, login: string): Promise<URL> {
  const cookies = new Map<string, string>();
  const origin = new URL(authorizationUrl).origin;
  let url = new URL(authorizationUrl);
  let form: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop += 1) {
    if (url.origin !== origin) return url; // back to the relying party
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { ...(cookies.size ? { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {}), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: form.toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [name, value] = (line.split(';')[0] as string).split(/=(.*)/s) as [string, string];
      if (value) cookies.set(name, value);
    }
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url);
      form = undefined;
      continue;
    }
    const page = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    if (!action) throw new Error(`the provider answered ${response.status} without a form or redirect:\n${page.slice(0, 500)}`);
    url = new URL(action.replaceAll('&amp;', '&'), url);
    form = new URLSearchParams(/name="login"/.test(page) ? { prompt: 'login', login, password: 'any' } : { prompt: 'consent' });
  }
  throw new Error('the provider redirected too often');
}
