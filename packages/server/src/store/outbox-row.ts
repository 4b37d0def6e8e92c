import { randomBytes } from 'node:crypto';
import type { OutboxMessage, OutboxTopic } from './outbox-message.js';

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
}

/** A new delivery id (`msg_…`), sent as `webhook-id`. */
export function newOutboxId(): string {
  return `msg_${randomBytes(15).toString('base64url')}`;
}

export function fromOutboxRow(row: OutboxRow): OutboxMessage {
  return {
    id: row.id,
    channel: row.channel,
    topic: row.topic as OutboxTopic,
    requestId: row.request_id,
    target: row.target,
    attempts: Number(row.attempts),
    createdAt: row.created_at instanceof Date ? row.created_at.toISOString() : row.created_at,
    lastError: row.last_error ?? undefined,
  };
}
