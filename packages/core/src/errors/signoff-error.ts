const marker = Symbol.for('signoff.error');

/** The closed set of error codes Signoff raises. Decisions are data; errors are misuse or infrastructure. */
export type SignoffErrorCode =
  | 'POLICY_INVALID'
  | 'POLICY_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'INVALID_ARGUMENT'
  | 'CONTROL_PLANE_UNAVAILABLE'
  | 'CONTROL_PLANE_REJECTED'
  | 'APPROVAL_EXPIRED'
  | 'APPROVAL_DENIED'
  | 'ALREADY_EXECUTED'
  /** The control plane refused to open an approval request: the agent key is over its escalation budget (HTTP 429). The call is denied. */
  | 'ESCALATION_BUDGET_EXCEEDED'
  | 'WEBHOOK_INVALID'
  | 'STORAGE_UNAVAILABLE'
  /** A stored approval request does not match the audit event that produced it (edited, rolled back or its entry cut): refused, fail-closed. */
  | 'STATE_TAMPERED';

/**
 * Base class of every error Signoff throws. Check with {@link SignoffError.isInstance}, which works
 * across duplicated package copies (it looks for a `Symbol.for` marker, not the prototype).
 *
 * @example
 * try { loadPolicy('policy.yaml'); } catch (error) {
 *   if (SignoffError.isInstance(error) && error.code === 'POLICY_INVALID') process.exit(1);
 * }
 */
export class SignoffError extends Error {
  readonly [marker] = true;
  readonly code: SignoffErrorCode;

  constructor(code: SignoffErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignoffError';
    this.code = code;
  }

  static isInstance(error: unknown): error is SignoffError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
