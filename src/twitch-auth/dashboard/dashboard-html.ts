/**
 * HTML built from template literals where every interpolated value is
 * escaped unless it is already `SafeHtml`, so forgetting to escape a login
 * or a scope cannot happen by omission.
 */

/** Markup that is already safe to insert as it is. */
export class SafeHtml {
  constructor(readonly markup: string) {}

  /** The markup itself. */
  toString(): string {
    return this.markup;
  }
}

/** Escapes text for HTML content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** Tag for templates: `htmlTemplate\`<td>${login}</td>\``. Arrays are joined; null, undefined and false render nothing. */
export function htmlTemplate(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}
