import { inspect } from 'node:util';
import type { TokenStatus } from '../storage/token-repository.interface.js';

/** Public facts about a stored token: everything but the secrets. Safe to log and serialise. */
export interface TokenInfo {
  userId: string;
  login: string | null;
  scopes: string[];
  /** Null when the token does not expire. */
  expiresAt: Date | null;
  obtainedAt: Date;
  lastValidatedAt: Date | null;
  status: TokenStatus;
  intents: string[];
}

/** The fields an `AccessToken` is built from; instants in ms since the epoch. */
export interface AccessTokenData {
  /** Null for an app token. */
  userId: string | null;
  login: string | null;
  accessToken: string;
  refreshToken: string | null;
  scopes: readonly string[];
  expiresAt: number | null;
  obtainedAt: number;
}

/**
 * A usable token. The secrets (`accessToken`, `refreshToken`) live in private
 * fields: they are readable through the getters but never show up in
 * `console.log`, `util.inspect` or `JSON.stringify`.
 */
export class AccessToken {
  /** Twitch user id; null for an app token. */
  readonly userId: string | null;
  readonly login: string | null;
  readonly scopes: readonly string[];
  /** Milliseconds since the epoch; null when the token does not expire. */
  readonly expiresAtMs: number | null;
  readonly obtainedAtMs: number;
  readonly #accessToken: string;
  readonly #refreshToken: string | null;

  constructor(data: AccessTokenData) {
    this.userId = data.userId;
    this.login = data.login;
    this.scopes = data.scopes;
    this.expiresAtMs = data.expiresAt;
    this.obtainedAtMs = data.obtainedAt;
    this.#accessToken = data.accessToken;
    this.#refreshToken = data.refreshToken;
  }

  /** The bearer token for Helix (`Authorization: Bearer …`) or IRC (`oauth:…`). */
  get accessToken(): string {
    return this.#accessToken;
  }

  /** The refresh token, if any. The library refreshes for you; you rarely need it. */
  get refreshToken(): string | null {
    return this.#refreshToken;
  }

  /** When the token expires, or null if it does not. */
  get expiresAt(): Date | null {
    return this.expiresAtMs === null ? null : new Date(this.expiresAtMs);
  }

  get obtainedAt(): Date {
    return new Date(this.obtainedAtMs);
  }

  /** True once the expiry has passed (never for tokens that do not expire). */
  isExpired(now: number = Date.now()): boolean {
    return this.expiresAtMs !== null && this.expiresAtMs <= now;
  }

  /** True when the token carries every one of `scopes`. */
  hasScopes(scopes: readonly string[]): boolean {
    return scopes.every((scope) => this.scopes.includes(scope));
  }

  /** The same facts without secrets. */
  toJSON(): Record<string, unknown> {
    return {
      userId: this.userId,
      login: this.login,
      scopes: [...this.scopes],
      expiresAt: this.expiresAt?.toISOString() ?? null,
      obtainedAt: this.obtainedAt.toISOString(),
    };
  }

  [inspect.custom](): string {
    return `AccessToken ${inspect(this.toJSON())}`;
  }
}
