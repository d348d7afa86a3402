import { Inject, Injectable } from '@nestjs/common';
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { ClaimStore } from '../storage/claim-store.interface.js';
import { OAuthReturnToTooLongError, OAuthStateError } from './oauth.errors.js';
import { readCookies } from './oauth-request.js';

/** Prefix of the browser-binding cookies; the state's id follows, so parallel tabs do not collide. */
export const OAUTH_STATE_COOKIE_PREFIX = 'twitch_oauth_';
/** ClaimStore namespace of redeemed states. */
const CLAIM_NAMESPACE = 'oauth-state';
/** Claims outlive the state a little, so instances with skewed clocks still see the redemption. */
const CLAIM_MARGIN_MS = 60_000;
/** Longer values are refused before any parsing: a real state is about 200 characters, plus its `returnTo`. */
const MAX_STATE_LENGTH = 2048;
/** Characters of a state's HMAC: 32 bytes in base64url. */
const SIGNATURE_LENGTH = 43;
/** The JSON of a payload with an empty `returnTo` and the widest values its other fields take (millisecond times have 13 digits until 2286). */
const PAYLOAD_OVERHEAD_BYTES = JSON.stringify({ v: 1, id: '0'.repeat(32), iat: 9e12, exp: 9e12, n: '0'.repeat(43), r: '' }).length;

/**
 * The longest `returnTo` (in UTF-8 bytes of its JSON string, so in
 * characters for the percent-encoded paths the built-in routes store) a
 * state can carry and still be under the length `verify` accepts: the
 * base64url body and its signature must fit in `MAX_STATE_LENGTH`.
 */
export const OAUTH_MAX_RETURN_TO_LENGTH = Math.floor(((MAX_STATE_LENGTH - 1 - SIGNATURE_LENGTH) * 3) / 4) - PAYLOAD_OVERHEAD_BYTES;

/** What `issue` accepts. */
export interface OAuthStateIssueOptions {
  /** Same-origin path to send the browser to after success, carried inside the signed state. */
  returnTo?: string | null;
}

/** A freshly issued state: send `state` to Twitch and set `setCookie` on the same response. */
export interface IssuedOAuthState {
  /** The value for Twitch's `state` parameter (signed; not a secret on its own). */
  state: string;
  /** A complete `Set-Cookie` header value binding the state to this browser. */
  setCookie: string;
  cookieName: string;
  expiresAt: Date;
}

/** What a verified (and now redeemed) state carried. */
export interface VerifiedOAuthState {
  id: string;
  returnTo: string | null;
  issuedAt: Date;
  expiresAt: Date;
}

interface StatePayload {
  v: 1;
  id: string;
  iat: number;
  exp: number;
  /** base64url SHA-256 of the cookie's nonce. */
  n: string;
  r?: string;
}

/**
 * Signs, binds and redeems the OAuth `state` parameter, with no server
 * memory but the shared `ClaimStore`: HMAC-signed with a key derived from the
 * client secret, expiring after `oauth.stateTtlSeconds`, bound to the browser
 * through an HttpOnly cookie holding a nonce whose hash is signed into the
 * state, and single-use across every instance. The built-in `OAuthController`
 * uses it; inject it to write your own callback.
 */
@Injectable()
export class OAuthStateService {
  private key: Buffer | null = null;

  constructor(
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
    @Inject(ClaimStore) private readonly claims: ClaimStore,
  ) {}

  /** Whether states can be issued at all: they are signed with a key derived from `clientSecret`. */
  get available(): boolean {
    return this.options.clientSecret !== null;
  }

  /**
   * A new state and its cookie. Throws `TwitchAuthConfigError` for a public
   * client (no `clientSecret`), and `OAuthReturnToTooLongError` when
   * `returnTo` would make a state `verify` refuses (see
   * `OAUTH_MAX_RETURN_TO_LENGTH`).
   */
  issue(options: OAuthStateIssueOptions = {}): IssuedOAuthState {
    const key = this.signingKey();
    const nonce = randomBytes(32).toString('base64url');
    const now = Date.now();
    const payload: StatePayload = {
      v: 1,
      id: randomBytes(16).toString('hex'),
      iat: now,
      exp: now + this.options.oauth.stateTtlSeconds * 1000,
      n: sha256(nonce),
    };
    if (options.returnTo) payload.r = options.returnTo;
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    // Refused here rather than issued: the user would consent on Twitch, then be refused by the callback.
    if (body.length + 1 + SIGNATURE_LENGTH > MAX_STATE_LENGTH) throw new OAuthReturnToTooLongError(OAUTH_MAX_RETURN_TO_LENGTH);
    const cookieName = OAUTH_STATE_COOKIE_PREFIX + payload.id;
    return {
      state: `${body}.${sign(key, body)}`,
      setCookie: this.cookie(cookieName, nonce, this.options.oauth.stateTtlSeconds),
      cookieName,
      expiresAt: new Date(payload.exp),
    };
  }

  /**
   * Checks the signature, the expiry and the browser binding (`cookieHeader`
   * is the request's raw `Cookie` header), then redeems the state so it
   * never verifies again, on any instance. Throws `OAuthStateError`.
   */
  async verify(state: string | undefined, cookieHeader: string | undefined): Promise<VerifiedOAuthState> {
    const payload = this.readSigned(state);
    if (!payload) throw new OAuthStateError('invalid_state');
    if (Date.now() >= payload.exp) throw new OAuthStateError('state_expired');
    const nonces = readCookies(cookieHeader).get(OAUTH_STATE_COOKIE_PREFIX + payload.id) ?? [];
    if (nonces.length === 0) throw new OAuthStateError('cookie_missing');
    const expected = Buffer.from(payload.n);
    if (!nonces.some((nonce) => safeEqual(Buffer.from(sha256(nonce)), expected))) throw new OAuthStateError('cookie_mismatch');
    if (!(await this.claims.claim(CLAIM_NAMESPACE, payload.id, payload.exp + CLAIM_MARGIN_MS))) {
      throw new OAuthStateError('state_replayed');
    }
    return { id: payload.id, returnTo: payload.r ?? null, issuedAt: new Date(payload.iat), expiresAt: new Date(payload.exp) };
  }

  /** A `Set-Cookie` value deleting the cookie of a genuinely signed `state` (expired or not); null otherwise. */
  clearCookie(state: string | undefined): string | null {
    const payload = this.readSigned(state);
    return payload ? this.cookie(OAUTH_STATE_COOKIE_PREFIX + payload.id, '', 0) : null;
  }

  /** The signed payload, or null when the state is malformed or its signature does not verify. */
  private readSigned(state: string | undefined): StatePayload | null {
    if (typeof state !== 'string' || state.length > MAX_STATE_LENGTH || !this.available) return null;
    const [body, signature, extra] = state.split('.');
    if (!body || !signature || extra !== undefined) return null;
    if (!safeEqual(Buffer.from(signature), Buffer.from(sign(this.signingKey(), body)))) return null;
    try {
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<StatePayload>;
      const valid =
        payload.v === 1 &&
        typeof payload.id === 'string' &&
        /^[0-9a-f]{32}$/.test(payload.id) &&
        typeof payload.iat === 'number' &&
        typeof payload.exp === 'number' &&
        typeof payload.n === 'string' &&
        (payload.r === undefined || typeof payload.r === 'string');
      return valid ? (payload as StatePayload) : null;
    } catch {
      return null;
    }
  }

  private signingKey(): Buffer {
    const secret = this.options.clientSecret;
    if (secret === null) {
      throw new TwitchAuthConfigError(
        'The OAuth authorization-code flow needs clientSecret (it signs the state and exchanges the code); public clients use the device flow.',
      );
    }
    // A derived key, so the client secret itself never signs anything that leaves the server.
    this.key ??= Buffer.from(hkdfSync('sha256', secret, 'nestjs-twitch-auth', 'oauth-state-hmac-v1', 32));
    return this.key;
  }

  private cookie(name: string, value: string, maxAgeSeconds: number): string {
    const path = new URL(this.options.redirectUri).pathname;
    const secure = this.options.redirectUri.startsWith('https:') ? '; Secure' : '';
    return `${name}=${value}; Max-Age=${Math.floor(maxAgeSeconds)}; Path=${path}; HttpOnly; SameSite=Lax${secure}`;
  }
}

function sign(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
