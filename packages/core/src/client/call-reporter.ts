import { SignoffError } from '../errors/signoff-error.js';
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
  let warnedRefused = false;
  // Most calls per report: halved while the control plane refuses batches as too large or malformed, so
  // one call with big args never holds back the rest (the API takes at most 500).
  let limit = 500;

  /** Queues an allowed call under `callId` (the framework's id for it), else its receipt id. */
  function add(decision: Decision, callId?: string): void {
    queue.push({ id: callId ?? decision.receipt.id, tool: decision.tool, args: decision.args, ...(decision.context ? { context: decision.context } : {}) });
    if (queue.length >= batchSize) void flush(false);
    else if (timer === undefined) {
      timer = setTimeout(() => void flush(false), intervalMs);
      timer.unref();
    }
  }

  /**
   * Sends what is queued; resolves when the attempt ends (a failure re-queues, never throws).
   * `everything` (the public flush): until the queue is empty; else a batch, and more only while full.
   */
  async function flush(everything = true): Promise<void> {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (sending) await sending;
    if (queue.length === 0) return;
    const batch = queue.slice(0, limit).map(withReportableId);
    queue = queue.slice(batch.length);
    let unavailable = false;
    let refused = false;
    sending = send(batch).then(
      () => {
        limit = Math.min(500, limit * 2);
      },
      (error: unknown) => {
        if (refusesThisBatch(error)) {
          refused = true;
          if (batch.length > 1) {
            queue = [...batch, ...queue];
            limit = Math.ceil(batch.length / 2);
          } else if (!warnedRefused) {
            // It can never be sent as it is: drop it rather than block every later report behind it.
            console.warn(`signoff: the control plane refused a reported call to ${batch[0]?.tool} (${(error as Error).message}); it is not counted in history conditions`);
            warnedRefused = true;
          }
          return;
        }
        unavailable = true;
        queue = [...batch, ...queue];
        if (queue.length > maxQueued) {
          queue = queue.slice(queue.length - maxQueued);
          if (!warned) console.warn(`signoff: could not report allowed calls (${(error as Error).message}); dropping the oldest beyond ${maxQueued}`);
          warned = true;
        }
        if (timer === undefined) {
          timer = setTimeout(() => void flush(false), intervalMs);
          timer.unref();
        }
      },
    );
    await sending;
    sending = undefined;
    if (unavailable || queue.length === 0) return; // after a failure the timer retries
    // The halves of a refused batch go at once, as do full batches; a remainder waits for the timer.
    if (everything || refused || queue.length >= Math.min(batchSize, limit)) await flush(everything);
    else if (timer === undefined) {
      timer = setTimeout(() => void flush(false), intervalMs);
      timer.unref();
    }
  }

  return { add, flush: (): Promise<void> => flush(), pending: (): number => queue.length };
}

export type CallReporter = ReturnType<typeof createCallReporter>;

/** A refusal of the report itself (`413` too large, `400` malformed): resending it unchanged can never work. */
function refusesThisBatch(error: unknown): boolean {
  return SignoffError.isInstance(error) && error.code === 'CONTROL_PLANE_REJECTED' && /\((?:400|413) [A-Z_]+\)/.test(error.message);
}

/** The ids `POST /v1/calls` takes as they are; any other id is sent as its hash (still one id per call). */
const REPORTABLE_ID = /^[\w.:-]{8,100}$/;

function withReportableId(call: ReportedCall): ReportedCall {
  return REPORTABLE_ID.test(call.id) ? call : { ...call, id: `h_${sha256Hex(call.id).slice(0, 48)}` };
}
