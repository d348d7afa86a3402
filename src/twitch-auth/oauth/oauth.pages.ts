import type { TokenInfo } from '../tokens/access-token.js';

/** Headers of every page the OAuth routes answer: never cached, never leaking the callback URL (it holds the code). */
export const OAUTH_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'",
};

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

/** The page shown after a successful authorization: who, and which scopes. Never a token. */
export function successPage(info: TokenInfo): string {
  const who = info.login ? `${info.login} (user id ${info.userId})` : `User ${info.userId}`;
  const scopes =
    info.scopes.length > 0
      ? `<ul class="scopes">${info.scopes.map((scope) => `<li>${escapeHtml(scope)}</li>`).join('')}</ul>`
      : '<p class="scopes">No scopes: only the public profile.</p>';
  return layout(
    'Twitch account connected',
    `<h1>Twitch account connected</h1>
    <p class="message">${escapeHtml(who)} authorized this application. You can close this page.</p>
    <p>Scopes granted:</p>
    ${scopes}`,
  );
}

/**
 * The page shown when a grant narrower than the stored token was not stored:
 * which scopes the stored token keeps, which the new grant lacked.
 */
export function keptGrantPage(stored: TokenInfo, missing: string[]): string {
  const who = stored.login ? `${stored.login} (user id ${stored.userId})` : `User ${stored.userId}`;
  const list = (scopes: string[]) => `<ul class="scopes">${scopes.map((scope) => `<li>${escapeHtml(scope)}</li>`).join('')}</ul>`;
  return layout(
    'Existing authorization kept',
    `<h1>Existing authorization kept</h1>
    <p class="message">${escapeHtml(who)} already authorized this application with more scopes. This new authorization lacked some of them, so it did not replace the stored one; nothing changed.</p>
    <p>Scopes the new authorization lacked:</p>
    ${list(missing)}
    <p>Scopes still authorized:</p>
    ${list(stored.scopes)}`,
  );
}

/** An error page: what happened, and a link to start over when that can help. */
export function failurePage(title: string, message: string, retryPath: string | null): string {
  const retry = retryPath ? `\n    <p><a href="${escapeHtml(retryPath)}">Start the authorization again</a></p>` : '';
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n    <p class="message">${escapeHtml(message)}</p>${retry}`);
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escapeHtml(title)}</title>
    <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style>
  </head>
  <body>
    ${body}
  </body>
</html>
`;
}
