/** HTML that is already safe to emit: built by {@link html}, so every interpolated value was escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML element body or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character] as string);
}

/**
 * A template tag that escapes every interpolated value unless it is itself `SafeHtml` (an earlier
 * `html` result); arrays are joined; `undefined`, `null` and `false` render nothing. Everything an
 * agent or reviewer supplied (tool, args, reason, comments) is therefore escaped by default.
 *
 * @example
 * html`<pre>${JSON.stringify(request.args, null, 2)}</pre>`; // <script> arrives as &lt;script&gt;
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}
