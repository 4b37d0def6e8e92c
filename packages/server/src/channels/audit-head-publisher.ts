import type { AuditHead } from '../audit/audit-head.js';
import type { Store } from '../store/store.js';

export interface AuditHeadPublisherOptions {
  readonly store: Store;
  /** Where each head goes: a channel that publishes heads (`webhook`) and its targets (URLs). */
  readonly channel: string;
  readonly targets: readonly string[];
  readonly intervalMs: number;
}

/**
 * Publishes the audit chain head every `intervalMs` to outside witnesses, through the outbox (so
 * it is retried, and signed like every webhook) — whenever the log has grown since this process
 * last published. A witness that records heads can later run `signoff audit verify --expect-head`
 * and catch a cut of the newest entries, which the chain alone cannot show. Queuing a head writes
 * no audit event (that would move the head it reports).
 *
 * @example
 * const publisher = startAuditHeadPublisher({ store, channel: 'webhook', targets: ['https://witness.example.com/heads'], intervalMs: 15 * 60_000 });
 */
export function startAuditHeadPublisher(options: AuditHeadPublisherOptions) {
  const { store } = options;
  let lastPublished: string | undefined;
  let running: Promise<AuditHead | undefined> | undefined;

  /** Queues the current head for every target unless it was already published; returns the head queued. */
  function publishOnce(): Promise<AuditHead | undefined> {
    running ??= (async () => {
      const head = await store.readAuditHead();
      if (!head || head.hash === lastPublished) return undefined;
      await store.enqueueOutbox(options.targets.map((target) => ({ channel: options.channel, topic: 'audit.head' as const, head, target })));
      lastPublished = head.hash;
      return head;
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const timer = setInterval(() => {
    publishOnce().catch((error: unknown) => console.error('signoff: publishing the audit head failed (will retry)', error));
  }, options.intervalMs);
  timer.unref();

  return {
    publishOnce,
    /** Stops publishing; waits for a publication in progress. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

export type AuditHeadPublisher = ReturnType<typeof startAuditHeadPublisher>;
