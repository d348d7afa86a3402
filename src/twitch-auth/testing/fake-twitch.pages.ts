import type { FakeTwitchResponse } from './fake-twitch.types.js';

/** What a consent page shows and which form fields it posts back. */
export interface ConsentPage {
  title: string;
  /** Line under the title, e.g. "fake_user_1 is about to authorize fake-client-id". */
  intro: string;
  scopes: string[];
  /** Where the Authorize and Cancel buttons post. */
  action: string;
  /** Hidden fields posted with the decision. */
  fields: Record<string, string>;
}

/**
 * A consent page: app, user and scopes, and one form with two plain submit
 * buttons, "Authorize" (`decision=authorize`) and "Cancel" (`decision=cancel`),
 * so a headless browser can click them by their text.
 */
export function consentPage(page: ConsentPage): FakeTwitchResponse {
  const hidden = Object.entries(page.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  const scopes =
    page.scopes.length > 0
      ? `<ul class="scopes">${page.scopes.map((scope) => `<li>${escapeHtml(scope)}</li>`).join('')}</ul>`
      : '<p class="scopes">No extra permissions: only your public profile.</p>';
  const body = `
    <h1>${escapeHtml(page.title)}</h1>
    <p>${escapeHtml(page.intro)}</p>
    ${scopes}
    <form method="post" action="${escapeHtml(page.action)}">
      ${hidden}
      <button type="submit" name="decision" value="authorize">Authorize</button>
      <button type="submit" name="decision" value="cancel">Cancel</button>
    </form>`;
  return htmlPage(200, page.title, body);
}

/** A plain page with a heading and one message, e.g. for errors. */
export function messagePage(status: number, title: string, message: string): FakeTwitchResponse {
  return htmlPage(status, title, `<h1>${escapeHtml(title)}</h1>\n    <p class="message">${escapeHtml(message)}</p>`);
}

/** A page asking for a device's user code (the activation page without `device-code`). */
export function userCodeForm(action: string): FakeTwitchResponse {
  const body = `
    <h1>Activate your device</h1>
    <form method="get" action="${escapeHtml(action)}">
      <label>Code <input name="device-code" autocomplete="off"></label>
      <button type="submit">Continue</button>
    </form>`;
  return htmlPage(200, 'Activate your device', body);
}

/** A 302 answer to `location`. */
export function redirect(location: string): FakeTwitchResponse {
  return { status: 302, headers: { location, 'cache-control': 'no-store' } };
}

function htmlPage(status: number, title: string, body: string): FakeTwitchResponse {
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${escapeHtml(title)} - FakeTwitch</title>
  </head>
  <body>${body}
  </body>
</html>
`;
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: html,
  };
}

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}
