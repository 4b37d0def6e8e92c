import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { CallbackPolicy } from './callback-policy.js';

/**
 * POSTs to an agent-chosen callback URL under the callback policy: the URL must still be
 * allow-listed, and the socket connects only to an address the policy allows — checked on the
 * resolved address itself (a literal, or what DNS answered for this very connection), so DNS
 * rebinding does not help. Redirects are not followed. A refusal is permanent (no retry can fix it).
 * Resolves with the HTTP status.
 *
 * @example
 * const status = await postToCallback(policy, url, { headers, body, timeoutMs: 10_000 });
 */
export function postToCallback(policy: CallbackPolicy, url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number }): Promise<number> {
  const problem = policy.problem(url);
  if (problem) return Promise.reject(Object.assign(new Error(problem), { permanent: true }));
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !policy.allowsAddress(host)) {
    return Promise.reject(Object.assign(new Error(`callback address ${host} may not be reached`), { permanent: true }));
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      target,
      { method: 'POST', headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) }, lookup: policy.lookup, agent: false, timeout: init.timeoutMs },
      (response) => {
        response.resume(); // the body is not ours to read
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${target.origin} within ${init.timeoutMs} ms`)));
    outgoing.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'CALLBACK_ADDRESS_REFUSED' ? Object.assign(error, { permanent: true }) : error));
    outgoing.end(init.body);
  });
}
