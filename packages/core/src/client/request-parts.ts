import { SignoffError } from '../errors/signoff-error.js';

/**
 * The control plane's base URL without trailing slashes. A URL that cannot work is a configuration
 * error at once (`CONFIG_INVALID`), not a run of "unavailable" attempts later.
 *
 * @example
 * const base = controlPlaneBase('http://127.0.0.1:8787/'); // 'http://127.0.0.1:8787'
 */
export function controlPlaneBase(url: string): string {
  const base = url.replace(/\/+$/, '');
  if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) throw new SignoffError('CONFIG_INVALID', `the control plane URL must be an http(s) URL, got '${url}'`);
  return base;
}

/**
 * A request body as JSON, made once before any attempt: args that are not JSON (a BigInt, a cycle)
 * are the caller's error (`INVALID_ARGUMENT`), never retried as if the network had failed.
 *
 * @example
 * const body = jsonBody({ tool, args }, 'POST /v1/approvals');
 */
export function jsonBody(body: unknown, what: string): string {
  try {
    return JSON.stringify(body);
  } catch (error) {
    throw new SignoffError('INVALID_ARGUMENT', `cannot send ${what}: the body is not JSON (${(error as Error).message})`, { cause: error });
  }
}
