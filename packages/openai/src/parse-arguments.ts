/**
 * Parses a tool call's JSON arguments without throwing: models sometimes send malformed JSON, and
 * some OpenAI-compatible servers send `""` for a function without parameters.
 *
 * @example
 * const parsed = parseArguments(call.function.arguments);
 * if (!parsed.ok) return `Tool call not run: its arguments are not valid JSON (${parsed.error}).`;
 */
export function parseArguments(text: string): { readonly ok: true; readonly args: unknown } | { readonly ok: false; readonly error: string } {
  try {
    return { ok: true, args: text.trim() === '' ? {} : (JSON.parse(text) as unknown) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
