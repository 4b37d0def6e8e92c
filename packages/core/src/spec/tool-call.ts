/**
 * A tool call as Signoff sees it, whatever framework produced it.
 *
 * @example
 * const call: ToolCall = { tool: 'payment.send', args: { to: 'acme', amount: 500 }, context: { user: 'u_42' } };
 */
export interface ToolCall {
  /** The tool's name, e.g. `payment.send`. */
  readonly tool: string;
  /** The tool input (usually an object); policy conditions address it as `args.…`. */
  readonly args: unknown;
  /** Caller-supplied facts (agent id, user, environment, …); conditions address it as `context.…`. */
  readonly context?: Readonly<Record<string, unknown>>;
}
