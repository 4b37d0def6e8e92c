import * as crypto from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/**
 * sha256 (hex) of the canonical JSON of a tool call's args. The control plane computes the same
 * hash; an approval is bound to it, so only the args that were approved can run.
 *
 * @example
 * hashArgs({ amount: 500, to: 'acme' }) === hashArgs({ to: 'acme', amount: 500 }); // true
 */
export function hashArgs(args: unknown): string {
  return sha256Hex(canonicalJson(args));
}

// One-shot crypto.hash (Node ≥ 20.12) is about twice as fast as createHash for short inputs.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** sha256 of a UTF-8 string, as lowercase hex. */
export function sha256Hex(text: string): string {
  return oneShotHash ? oneShotHash('sha256', text, 'hex') : crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}
