import { readPath } from './operator-semantics.js';

const PLACEHOLDER = /\{((?:args|context)(?:\.[^.\s{}]+)*)\}/g;
/** Longest rendering of one placeholder; a reason is a sentence, not a data dump. */
const MAX_VALUE_LENGTH = 200;

/** Renders a reason for one call. */
export type ReasonRenderer = (args: unknown, context: unknown) => string;

/**
 * Compiles a reason template once: `{args.x}` / `{context.x}` placeholders become the call's
 * values (strings as-is, other values as JSON, missing as `(missing)`); other braces stay literal.
 *
 * @example
 * compileReasonTemplate('Payment of ${args.amount} to {args.to}')({ amount: 500, to: 'acme' }, undefined);
 * // 'Payment of $500 to acme'
 */
export function compileReasonTemplate(template: string): ReasonRenderer {
  const parts = template.split(PLACEHOLDER);
  if (parts.length === 1) return () => template;
  // split() with one capture group alternates literal text and placeholder paths.
  const pieces = parts.map((part, index) => {
    if (index % 2 === 0) return part;
    const [root, ...segments] = part.split('.');
    return { fromArgs: root === 'args', segments };
  });
  return (args, context) => {
    let text = '';
    for (const piece of pieces) {
      text += typeof piece === 'string' ? piece : renderValue(readPath(piece.fromArgs ? args : context, piece.segments));
    }
    return text;
  };
}

function renderValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text =
    typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH)}…` : text;
}
