/**
 * A UTC time as reviewers read it, to the minute: readable, and unambiguous whatever their time
 * zone. Shared by the inbox and the email so both say the same.
 *
 * @example
 * formatTime('2026-11-24T06:00:12.345Z'); // '2026-11-24 06:00 UTC'
 */
export function formatTime(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '—';
}
