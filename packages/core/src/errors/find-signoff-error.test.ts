import { describe, expect, it } from 'vitest';
import { findSignoffError } from './find-signoff-error.js';
import { SignoffError } from './signoff-error.js';

describe('findSignoffError', () => {
  it('finds the error itself or one wrapped in causes, and nothing else', () => {
    const inner = new SignoffError('INVALID_ARGUMENT', 'needs a thread_id');
    expect(findSignoffError(inner)).toBe(inner);
    expect(findSignoffError(new Error('MiddlewareError', { cause: new Error('again', { cause: inner }) }))).toBe(inner);
    expect(findSignoffError(new Error('plain'))).toBeUndefined();
    expect(findSignoffError('text')).toBeUndefined();
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(findSignoffError(loop)).toBeUndefined();
  });
});
