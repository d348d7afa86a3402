import { Inject, Injectable, Logger } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import { InvalidAccessTokenError, TwitchRequestError } from '../twitch/twitch.errors.js';
import { AccessToken } from './access-token.js';
import { internScopes } from './scopes.js';

/**
 * The app access token (client credentials), kept in memory: app tokens are
 * cheap to re-request and are never refreshed. Concurrent callers share one
 * request; the token is replaced before it expires.
 */
@Injectable()
export class AppTokenProvider {
  private readonly logger = new Logger('TwitchAuth');
  private token: AccessToken | null = null;
  private inFlight: Promise<AccessToken> | null = null;
  /** When the cached token was last confirmed by /oauth2/validate. */
  lastValidatedAt: number | null = null;

  constructor(
    private readonly identity: TwitchIdentityClient,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
  ) {}

  /** A valid app token, requested when none is cached or the cached one nears expiry. */
  async get(): Promise<AccessToken> {
    const token = this.token;
    const now = Date.now();
    if (token && !this.isDue(token, now)) return token;
    try {
      return await this.request();
    } catch (error) {
      // Renewing ahead of expiry failed for now: the cached token still works until it expires.
      if (token && !token.isExpired(Date.now()) && error instanceof TwitchRequestError && error.transient) return token;
      throw error;
    }
  }

  /** Drops the cached token (e.g. after Twitch answered 401) and gets a new one. */
  async replace(rejected?: string): Promise<AccessToken> {
    if (this.token && rejected !== undefined && this.token.accessToken !== rejected) return this.token;
    this.token = null;
    return this.request();
  }

  /** Validates the cached app token (Twitch's hourly rule); a dead one is replaced. No-op when none is cached. */
  async validate(): Promise<void> {
    const token = this.token;
    if (!token) return;
    try {
      await this.identity.validate(token.accessToken);
      this.lastValidatedAt = Date.now();
    } catch (error) {
      if (!(error instanceof InvalidAccessTokenError)) throw error;
      this.logger.warn('The app access token was found invalid; requesting a new one.');
      await this.replace(token.accessToken);
    }
  }

  /** The cached token, if any, without requesting one. */
  peek(): AccessToken | null {
    return this.token;
  }

  private request(): Promise<AccessToken> {
    if (this.options.clientSecret === null) {
      return Promise.reject(
        new TwitchAuthConfigError(
          'An app access token needs clientSecret (client credentials grant); this module is configured as a public client.',
        ),
      );
    }
    this.inFlight ??= this.identity
      .clientCredentials()
      .then((grant) => {
        const now = Date.now();
        this.token = new AccessToken({
          userId: null,
          login: null,
          accessToken: grant.accessToken,
          refreshToken: null,
          scopes: internScopes(grant.scopes),
          expiresAt: grant.expiresIn > 0 ? now + grant.expiresIn * 1000 : null,
          obtainedAt: now,
        });
        this.lastValidatedAt = now;
        return this.token;
      })
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  private isDue(token: AccessToken, now: number): boolean {
    if (token.expiresAtMs === null) return false;
    const lifetime = token.expiresAtMs - token.obtainedAtMs;
    return now >= token.expiresAtMs - Math.min(this.options.maintenance.refreshBeforeExpirySeconds * 1000, lifetime / 2);
  }
}
