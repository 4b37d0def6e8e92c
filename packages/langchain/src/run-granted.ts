import { ToolMessage } from '@langchain/core/messages';
import { SignoffError, type ExecutionGrant, type Signoff } from '@signoff/core';

/** How long a tool result may wait for its outcome report; the report is best effort. */
const REPORT_TIMEOUT_MS = 2_000;

/**
 * Runs a call, and when it ran under a claimed grant, reports how it ended (audited next to the
 * approval). The report never changes the result: a control plane that does not answer within
 * {@link REPORT_TIMEOUT_MS} is given up on, a refused report is ignored. Internal.
 */
export async function runGranted<TResult>(signoff: Signoff, grant: ExecutionGrant | undefined, run: () => Promise<TResult>): Promise<TResult> {
  if (!grant) return run();
  let outcome: 'succeeded' | 'failed' = 'failed';
  try {
    const result = await run();
    if (!(ToolMessage.isInstance(result) && result.status === 'error')) outcome = 'succeeded';
    return result;
  } finally {
    await signoff.reportOutcome(grant, outcome, { signal: AbortSignal.timeout(REPORT_TIMEOUT_MS) }).catch(() => undefined);
  }
}

/**
 * What the model reads when Signoff did not let a call run because of an error: a used or unusable
 * grant is a refusal (`Not run: …`, with the control plane's reason, e.g. "already used at …");
 * anything else closed the call (`Not run (fail-closed): …`). Internal.
 */
export function refusalReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const refused = SignoffError.isInstance(error) && (error.code === 'ALREADY_EXECUTED' || error.code === 'CONTROL_PLANE_REJECTED');
  return `${refused ? 'Not run' : 'Not run (fail-closed)'}: ${message}`;
}
