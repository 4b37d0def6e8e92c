/**
 * The one use of a granted approval: an agent claimed it (`POST /v1/approvals/:id/execution`) just
 * before running the call. A request is claimed at most once; a second claim is refused
 * (`ALREADY_EXECUTED`), except a network retry of the same attempt (same `nonce`).
 *
 * @example
 * const claim: ExecutionClaim = { claimedAt: '2026-11-24T06:05:00.000Z', claimedBy: 'payments-agent', nonce: 'n_3f…', argsHash: 'a1b2…', outcome: undefined, reportedAt: undefined };
 */
export interface ExecutionClaim {
  /** When the grant was used (ISO 8601, UTC). */
  readonly claimedAt: string;
  /** The agent principal that claimed it (always the requester). */
  readonly claimedBy: string;
  /** The claiming attempt's random id: a retry carrying it gets the same answer, anything else is a replay. */
  readonly nonce: string;
  /** sha256 of the args the agent said it was about to run (the approved args). */
  readonly argsHash: string;
  /** What the agent reported afterwards, if it did. */
  readonly outcome: 'succeeded' | 'failed' | undefined;
  /** When the outcome was reported. */
  readonly reportedAt: string | undefined;
}
