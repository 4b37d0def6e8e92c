/**
 * Where something is in a policy file.
 *
 * @example
 * const location: SourceLocation = { file: 'policy.yaml', line: 4, column: 5 };
 */
export interface SourceLocation {
  /** The policy file, or `<inline>` for policies given as text. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}
