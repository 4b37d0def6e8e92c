/** A request row as stored, with the columns that bind it to the audit chain. */
export interface StoredRequestState {
  readonly id: string;
  /** The request as its JSON text, exactly as stored. */
  readonly body: string;
  /** sha256 of the canonical request written with the body; `undefined` on a row Signoff did not write. */
  readonly stateHash: string | undefined;
  /** The sequence of the audit event that produced this state. */
  readonly auditSequence: number | undefined;
}
