/**
 * A minimal "browser" over fetch for the OAuth e2e suites: it follows the
 * start route's 302 to FakeTwitch, submits the consent form like a person
 * clicking a button, and brings Twitch's redirect back to the app with the
 * cookie the start route set.
 */

/** What the start route answered. */
export interface StartedAuthorization {
  status: number;
  /** Twitch's authorize URL (for a 302). */
  location: string | null;
  /** `name=value` of the binding cookie, ready for a `Cookie` header. */
  cookie: string | null;
  /** The full `Set-Cookie` header values. */
  setCookies: string[];
  state: string | null;
  html: string;
}

/** An answer of the app, with its body read. */
export interface AppAnswer {
  status: number;
  location: string | null;
  setCookies: string[];
  contentType: string | null;
  html: string;
}

/** `GET <appUrl>/oauth?<query>` without following the redirect. */
export async function startAuthorization(appUrl: string, query = '', path = '/oauth'): Promise<StartedAuthorization> {
  const response = await fetch(`${appUrl}${path}${query ? `?${query}` : ''}`, { redirect: 'manual' });
  const setCookies = response.headers.getSetCookie();
  const location = response.headers.get('location');
  const cookie = setCookies.length > 0 ? setCookies[0]!.split(';')[0]! : null;
  const state = location ? new URL(location).searchParams.get('state') : null;
  return { status: response.status, location, cookie, setCookies, state, html: await response.text() };
}

/**
 * Opens FakeTwitch's authorize page and clicks `decision` ("authorize" or
 * "cancel"), returning where Twitch redirects the browser (the redirect URI
 * with `code`/`error` and `state`).
 */
export async function decideAtTwitch(authorizeUrl: string, decision: 'authorize' | 'cancel' = 'authorize'): Promise<URL> {
  const page = await fetch(authorizeUrl);
  if (page.status !== 200) throw new Error(`FakeTwitch authorize page answered ${page.status}`);
  const html = await page.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('no consent form on the authorize page');
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    form.set(unescapeHtml(match[1]!), unescapeHtml(match[2]!));
  }
  form.set('decision', decision);
  const answer = await fetch(new URL(unescapeHtml(action), authorizeUrl), { method: 'POST', body: form, redirect: 'manual' });
  const location = answer.headers.get('location');
  if (answer.status !== 302 || !location) throw new Error(`FakeTwitch decision answered ${answer.status}`);
  return new URL(location);
}

/** Sends Twitch's redirect to the app at `appUrl` (the redirect URI's host may differ) with `cookie`. */
export async function deliverCallback(appUrl: string, redirect: URL | string, cookie: string | null): Promise<AppAnswer> {
  const target = typeof redirect === 'string' ? new URL(redirect, appUrl) : redirect;
  const headers: Record<string, string> = cookie ? { cookie } : {};
  const response = await fetch(`${appUrl}${target.pathname}${target.search}`, { headers, redirect: 'manual' });
  return {
    status: response.status,
    location: response.headers.get('location'),
    setCookies: response.headers.getSetCookie(),
    contentType: response.headers.get('content-type'),
    html: await response.text(),
  };
}

/** The text of an HTML page without tags, whitespace collapsed, entities decoded. */
export function pageText(html: string): string {
  return unescapeHtml(html.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

function unescapeHtml(text: string): string {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
}
