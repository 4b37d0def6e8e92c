/**
 * Proof of which policy decided what, attached to every {@link Decision}.
 *
 * @example
 * const receipt: Receipt = { id: 'rcpt_…', policyHash: '9f2c…', argsHash: 'a1b2…', at: '2026-11-24T06:00:00.000Z' };
 */
export interface Receipt {
  /** Unique id of this decision (a random UUID); usable as the approval request id. */
  readonly id: string;
  /** sha256 (hex) of the canonical JSON of the policy that decided. */
  readonly policyHash: string;
  /**
   * sha256 (hex) of the canonical JSON of the args; present for escalations, which bind an approval
   * to them. Computed on first read (it costs more than the rest of the decision).
   */
  readonly argsHash?: string;
  /** When the decision was made (ISO 8601, UTC). */
  readonly at: string;
}
