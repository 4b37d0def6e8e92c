import { SignoffError } from '@signoff/core';

/**
 * An ISO 8601 time bound of a list filter as `toISOString()` writes it — how request times are
 * stored, so SQLite's text comparison orders instants. A bound that is not a time is misuse.
 *
 * @example
 * isoInstant('2026-12-07T10:00:00+01:00', 'createdSince'); // '2026-12-07T09:00:00.000Z'
 */
export function isoInstant(text: string, field: string): string {
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new SignoffError('INVALID_ARGUMENT', `${field}: expected an ISO 8601 time, got '${text.slice(0, 40)}'`);
  return new Date(time).toISOString();
}
