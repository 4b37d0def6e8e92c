import { sha256Hex } from '../hash-args.js';
import type { Decision } from '../spec/decision.js';

/** How the agent side reports the calls it allowed on its own. */
export interface CallReporterOptions {
  /** Send a batch at least this often while calls wait (default 1000 ms). */
  readonly intervalMs?: number;
  /** Send as soon as this many calls wait (default 100; the server takes at most 500 per report). */
  readonly batchSize?: number;
  /** Most calls kept while the control plane cannot be reached; the oldest are dropped beyond it (default 10,000). */
  readonly maxQueued?: number;
}

/** One reported call, as `POST /v1/calls` takes it. */
export interface ReportedCall {
  readonly id: string;
  readonly tool: string;
  readonly args: unknown;
  readonly context?: Readonly<Record<string, unknown>>;
}

/**
 * Batches the calls a local `guard()` allowed and sends them to the control plane
 * (`POST /v1/calls`), so history conditions count them. Adding a call costs a push onto an array;
 * sending is fire-and-forget on a timer (or when a batch fills), and a batch that fails goes back
 * to the front of the queue for the next attempt. Reports never delay or change a decision: the
 * control plane judges history conditions itself and fails closed when its history cannot be read.
 *
 * @example
 * const reporter = createCallReporter((calls) => controlPlane.recordCalls(calls));
 * reporter.add(decision); // after an allow
 * await reporter.flush();  // before the process exits
 */
export function createCallReporter(send: (calls: readonly ReportedCall[]) => Promise<unknown>, options: CallReporterOptions = {}) {
  const intervalMs = options.intervalMs ?? 1_000;
  const batchSize = Math.min(options.batchSize ?? 100, 500);
  const maxQueued = options.maxQueued ?? 10_000;
  let queue: ReportedCall[] = [];
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> | undefined;
  let warned = false;

  /** Queues an allowed call under `callId` (the framework's id for it), else its receipt id. */
  function add(decision: Decision, callId?: string): void {
    queue.push({ id: callId ?? decision.receipt.id, tool: decision.tool, args: decision.args, ...(decision.context ? { context: decision.context } : {}) });
    if (queue.length >= batchSize) void flush();
    else if (timer === undefined) {
      timer = setTimeout(() => void flush(), intervalMs);
      timer.unref();
    }
  }

  /** Sends everything queued now; resolves when the attempt ends (a failure re-queues, never throws). */
  async function flush(): Promise<void> {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (sending) await sending;
    if (queue.length === 0) return;
    const batch = queue.slice(0, 500).map(withReportableId);
    queue = queue.slice(batch.length);
    sending = send(batch).then(
      () => undefined,
      (error: unknown) => {
        queue = [...batch, ...queue];
        if (queue.length > maxQueued) {
          queue = queue.slice(queue.length - maxQueued);
          if (!warned) console.warn(`signoff: could not report allowed calls (${(error as Error).message}); dropping the oldest beyond ${maxQueued}`);
          warned = true;
        }
        if (timer === undefined) {
          timer = setTimeout(() => void flush(), intervalMs);
          timer.unref();
        }
      },
    );
    await sending;
    sending = undefined;
    if (queue.length >= batchSize) await flush();
  }

  return { add, flush, pending: (): number => queue.length };
}

export type CallReporter = ReturnType<typeof createCallReporter>;

/** The ids `POST /v1/calls` takes as they are; any other id is sent as its hash (still one id per call). */
const REPORTABLE_ID = /^[\w.:-]{8,100}$/;

function withReportableId(call: ReportedCall): ReportedCall {
  return REPORTABLE_ID.test(call.id) ? call : { ...call, id: `h_${sha256Hex(call.id).slice(0, 48)}` };
}
