/** Fetch helpers for the dashboard suites: the page with its CSRF token and cookie, and form posts. */

/** The page as a browser gets it. */
export interface DashboardPage {
  status: number;
  headers: Headers;
  html: string;
  /** `name=value` of the CSRF cookie set with the page, when one was. */
  cookie: string | null;
  /** The hidden field's value in the first form, if any. */
  csrfToken: string | null;
}

/** `GET <url>` with optional extra headers. */
export async function getPage(url: string, headers: Record<string, string> = {}): Promise<DashboardPage> {
  const response = await fetch(url, { headers, redirect: 'manual' });
  const html = await response.text();
  const setCookie = response.headers.getSetCookie().find((value) => value.startsWith('twitch_dashboard_csrf='));
  return {
    status: response.status,
    headers: response.headers,
    html,
    cookie: setCookie ? setCookie.split(';')[0]! : null,
    csrfToken: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? null,
  };
}

/** An answer to a form post, not followed. */
export interface PostAnswer {
  status: number;
  location: string | null;
  body: string;
}

/** Posts `fields` as a form to `url`. */
export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<PostAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, location: response.headers.get('location'), body: await response.text() };
}
