import type { AuditHead } from '../audit/audit-head.js';
import type { BudgetNotice, DigestNotice, OutboxMessage, OutboxMessageInput, RequestTopic } from './outbox-message.js';
import { timeOrderedId } from './time-ordered-id.js';

/** An outbox row as both SQL stores select it. */
export interface OutboxRow {
  readonly id: string;
  readonly channel: string;
  readonly topic: string;
  readonly request_id: string;
  readonly target: string;
  readonly attempts: number;
  readonly created_at: string | Date;
  readonly last_error: string | null;
  readonly payload: string | null;
}

/** A new delivery id (`msg_…`), sent as `webhook-id`; time-ordered so a batch's outbox rows share index pages. */
export function newOutboxId(): string {
  return timeOrderedId('msg_');
}

/**
 * The columns a message is stored in. `request_id` is NOT NULL in databases created before heads
 * were published (SQLite cannot relax it in place), so a message about no request stores `''`
 * there and its data in `payload`.
 */
export function toOutboxColumns(message: OutboxMessageInput): { channel: string; topic: string; requestId: string; target: string; payload: string | null } {
  const { channel, topic, target } = message;
  if (message.topic === 'budget.exceeded' || message.topic === 'email.digest') return { channel, topic, target, requestId: '', payload: JSON.stringify(message.notice) };
  return message.topic === 'audit.head'
    ? { channel, topic, target, requestId: '', payload: JSON.stringify(message.head) }
    : { channel, topic, target, requestId: message.requestId, payload: null };
}

/**
 * Whether a digest row is still unclaimed: queued and not leased or retried since it was due. A
 * request that joins a claimed digest may be missed by its sender (it reads what waits after the
 * claim), so it queues a follow-up instead (see {@link DigestNotice.after}).
 */
export function digestUnclaimed(row: { status: string; next_attempt_at: string | Date }, dueAt: Date): boolean {
  return row.status === 'pending' && new Date(row.next_attempt_at).getTime() <= dueAt.getTime();
}

/** When a message is first due: now, or later for one held back (`dueAt`). */
export function dueAtOf(message: OutboxMessageInput, now: Date): Date {
  return 'dueAt' in message && message.dueAt ? message.dueAt : now;
}

export function fromOutboxRow(row: OutboxRow): OutboxMessage {
  const delivery = {
    id: row.id,
    channel: row.channel,
    target: row.target,
    attempts: Number(row.attempts),
    createdAt: row.created_at instanceof Date ? row.created_at.toISOString() : row.created_at,
    lastError: row.last_error ?? undefined,
  };
  if (row.topic === 'budget.exceeded') return { ...delivery, topic: 'budget.exceeded', notice: JSON.parse(row.payload ?? 'null') as BudgetNotice };
  if (row.topic === 'email.digest') return { ...delivery, topic: 'email.digest', notice: JSON.parse(row.payload ?? 'null') as DigestNotice };
  return row.topic === 'audit.head'
    ? { ...delivery, topic: 'audit.head', head: JSON.parse(row.payload ?? 'null') as AuditHead }
    : { ...delivery, topic: row.topic as RequestTopic, requestId: row.request_id };
}
