import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readCookies } from '../oauth/oauth-request.js';

/** Cookie holding the browser's CSRF nonce. */
export const DASHBOARD_CSRF_COOKIE = 'twitch_dashboard_csrf';
/** Form field carrying the CSRF token. */
export const DASHBOARD_CSRF_FIELD = '_csrf';

/** What `DashboardCsrf.tokenFor` answers: the form's token, and a cookie to set when the browser had none. */
export interface DashboardCsrfToken {
  token: string;
  setCookie: string | null;
}

/**
 * Double-submit CSRF protection without server memory: the browser holds a
 * random nonce in an HttpOnly, SameSite=Strict cookie, and each form carries
 * an HMAC of that nonce. Another site can make the browser send the cookie
 * (not with Strict, but with older browsers) yet cannot read the page to
 * learn the token. The key is derived from a configured secret with a
 * purpose label, so every instance sharing the configuration accepts the
 * others' forms; with no secret configured it is random per process.
 */
export class DashboardCsrf {
  private readonly key: Buffer;

  constructor(
    secret: string | null,
    private readonly cookiePath: string,
    private readonly secure: boolean,
  ) {
    this.key = secret ? Buffer.from(hkdfSync('sha256', secret, 'nestjs-twitch-auth', 'dashboard-csrf-hmac-v1', 32)) : randomBytes(32);
  }

  /** The token for the browser that sent `cookieHeader`, with a new nonce cookie when it has none. */
  tokenFor(cookieHeader: string | string[] | undefined): DashboardCsrfToken {
    const nonce = this.nonceOf(cookieHeader);
    if (nonce !== null) return { token: this.sign(nonce), setCookie: null };
    const fresh = randomBytes(32).toString('base64url');
    const secure = this.secure ? '; Secure' : '';
    return {
      token: this.sign(fresh),
      setCookie: `${DASHBOARD_CSRF_COOKIE}=${fresh}; Path=${this.cookiePath}; HttpOnly; SameSite=Strict${secure}`,
    };
  }

  /** Whether `token` (the form field) matches the browser's nonce cookie. */
  verify(cookieHeader: string | string[] | undefined, token: unknown): boolean {
    const nonce = this.nonceOf(cookieHeader);
    if (nonce === null || typeof token !== 'string') return false;
    const expected = Buffer.from(this.sign(nonce));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private nonceOf(cookieHeader: string | string[] | undefined): string | null {
    const values = readCookies(cookieHeader).get(DASHBOARD_CSRF_COOKIE) ?? [];
    return values.find((value) => /^[A-Za-z0-9_-]{43}$/.test(value)) ?? null;
  }

  private sign(nonce: string): string {
    return createHmac('sha256', this.key).update(nonce).digest('base64url');
  }
}
