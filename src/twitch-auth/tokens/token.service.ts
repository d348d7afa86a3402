import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS, TWITCH_AUTH_TOKEN_SOURCE } from '../twitch-auth.constants.js';
import { TwitchAuthConfigError, TwitchAuthError } from '../twitch-auth.errors.js';
import { TwitchAuthEvent, TwitchAuthEventPublisher, TokenIssuedEvent } from '../twitch-auth.events.js';
import { checkScopes, type ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { InMemoryTokenRepository } from '../storage/in-memory-token.repository.js';
import type { NewStoredToken } from '../storage/token-repository.interface.js';
import { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import { InvalidAccessTokenError } from '../twitch/twitch.errors.js';
import type { DeviceCode, TokenGrant } from '../twitch/twitch.types.js';
import type { AccessToken, TokenInfo } from './access-token.js';
import { AppTokenProvider } from './app-token.provider.js';
import { DeviceFlowPoller, type WaitForDeviceTokenOptions } from './device-flow.js';
import { seedSimpleModeToken } from './simple-mode-seed.js';
import { TokenCache } from './token-cache.js';
import { addUserIntents, removeUserIntents } from './token-intents.js';
import { TokenReader } from './token-reader.js';
import { TokenRefresher } from './token-refresher.js';
import type { TokenSource } from './token-source.interface.js';
import { TokenStore, toTokenInfo, type PlainToken } from './token-store.js';
import { TokenNotFoundError } from './token.errors.js';

/** Parameters of `getAuthorizationUrl`. */
export interface AuthorizationUrlOptions {
  /** Scopes to ask for; `defaultScopes` when omitted. */
  scopes?: string[];
  /** Make Twitch show the consent page even if the user already agreed. */
  forceVerify?: boolean;
  /** Your CSRF state; check it in your callback before calling `exchangeCode`. */
  state?: string;
}

/** Options of a call its caller may give up on, e.g. on Ctrl+C in a command-line tool. */
export interface TokenCallOptions {
  /**
   * Stops waiting (for another instance's lease, or for Twitch's answer) and
   * rejects with the signal's reason. What Twitch already answered is still
   * stored: a refresh that succeeded is written before the call settles.
   */
  signal?: AbortSignal;
}

/** Optional facts for `addToken`. */
export interface AddTokenOptions {
  login?: string | null;
  /** When the token expires; unknown until the next validation when omitted. */
  expiresAt?: Date | null;
  intents?: string[];
}

/**
 * What bot code injects. Ask for "a valid token for user X with scopes Y";
 * the service reads, refreshes (once, however many callers), and reports
 * precisely why when it cannot.
 */
@Injectable()
export class TokenService implements OnApplicationBootstrap {
  private readonly logger = new Logger('TwitchAuth');
  private readonly reader: TokenReader;

  constructor(
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly refresher: TokenRefresher,
    private readonly identity: TwitchIdentityClient,
    private readonly appTokens: AppTokenProvider,
    private readonly deviceFlow: DeviceFlowPoller,
    private readonly events: TwitchAuthEventPublisher,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
    @Optional() @Inject(TWITCH_AUTH_TOKEN_SOURCE) tokenSource?: TokenSource,
  ) {
    this.reader = new TokenReader(
      store,
      cache,
      refresher,
      (token, refreshToken, options) => this.addUser(token, refreshToken, options),
      tokenSource,
    );
  }

  /** Seeds the `token` option ("simple" mode) without ever overwriting a newer stored token. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.events.enabled) {
      this.logger.warn('EventEmitterModule.forRoot() is not imported: twitch.* events will not be delivered.');
    }
    if (this.store.repository instanceof InMemoryTokenRepository) {
      this.logger.warn("Tokens are kept in memory and lost on restart: set storage: 'typeorm' (or your own TokenRepository) to keep them.");
    }
    if (this.options.token) {
      const deps = { identity: this.identity, store: this.store, tokens: this, logger: this.logger };
      await seedSimpleModeToken(deps, this.options.token.accessToken, this.options.token.refreshToken);
    }
  }

  /**
   * A valid token of `userId` holding every scope in `scopes`, refreshed
   * first when due. Throws `TokenNotFoundError`, `MissingScopesError` or
   * `ReauthorizationRequiredError` (after asking the `TokenSource`, if any),
   * or `TokenRefreshFailedError` when the token expired and Twitch is failing.
   */
  getUserToken(userId: string, scopes: readonly string[] = []): Promise<AccessToken> {
    return this.reader.getUserToken(userId, scopes);
  }

  /** The access token string of `getUserToken`. The hot path costs one map lookup. */
  getAccessToken(userId: string, scopes?: readonly string[]): Promise<string> {
    return this.reader.getAccessToken(userId, scopes);
  }

  /** The token of the user holding `intent` (e.g. `chat`), with the same guarantees as `getUserToken`. */
  getTokenForIntent(intent: string, scopes: readonly string[] = []): Promise<AccessToken> {
    return this.reader.getTokenForIntent(intent, scopes);
  }

  /** Gives `userId` the named roles `intents`; each intent moves away from any other user. */
  addIntents(userId: string, intents: string[]): Promise<TokenInfo> {
    return addUserIntents(this.store, this.cache, userId, intents);
  }

  /** Takes the named roles `intents` away from `userId`. */
  removeIntents(userId: string, intents: string[]): Promise<TokenInfo> {
    return removeUserIntents(this.store, userId, intents);
  }

  /** The app access token (client credentials), cached and replaced before expiry. Needs `clientSecret`. */
  async getAppToken(): Promise<AccessToken> {
    return this.appTokens.get();
  }

  /**
   * Validates `accessToken` with Twitch (learning user id, login, scopes and
   * expiry) and stores it, replacing the user's previous token. An expired
   * access token with a refresh token is refreshed first.
   */
  async addUser(accessToken: string, refreshToken?: string | null, options: { intents?: string[] } = {}): Promise<TokenInfo> {
    let grant: TokenGrant = { accessToken, refreshToken: refreshToken ?? null, expiresIn: 0, scopes: [] };
    let validation;
    try {
      validation = await this.identity.validate(accessToken);
    } catch (error) {
      if (!(error instanceof InvalidAccessTokenError) || !refreshToken) throw error;
      grant = await this.identity.refresh(refreshToken);
      validation = await this.identity.validate(grant.accessToken);
    }
    if (validation.userId === null) {
      throw new TwitchAuthError('addUser was given an app access token; it needs a user access token.');
    }
    if (validation.clientId !== this.options.clientId) {
      throw new TwitchAuthError(
        `The token was issued to another client id than the configured clientId; it could not be refreshed with this app's credentials.`,
      );
    }
    const now = Date.now();
    return this.storeToken({
      userId: validation.userId,
      login: validation.login,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      scopes: validation.scopes,
      expiresAt: validation.expiresIn > 0 ? now + validation.expiresIn * 1000 : null,
      obtainedAt: now,
      lastValidatedAt: now,
      intents: options.intents,
    });
  }

  /** Stores a token as given, without asking Twitch. It is validated by the next maintenance tick. */
  async addToken(
    userId: string,
    accessToken: string,
    refreshToken?: string | null,
    scopes: string[] = [],
    options: AddTokenOptions = {},
  ): Promise<TokenInfo> {
    checkScopes(scopes, 'scopes');
    return this.storeToken({
      userId,
      login: options.login ?? null,
      accessToken,
      refreshToken: refreshToken ?? null,
      scopes,
      expiresAt: options.expiresAt ? options.expiresAt.getTime() : null,
      obtainedAt: Date.now(),
      lastValidatedAt: null,
      intents: options.intents,
    });
  }

  /** Deletes the user's token; with `revoke: true` revokes it at Twitch first (and keeps it if that fails). */
  async removeUser(userId: string, options: { revoke?: boolean } & TokenCallOptions = {}): Promise<boolean> {
    if (options.revoke) {
      const row = await this.store.get(userId);
      if (row) await this.identity.revoke(row.accessToken, options.signal);
    }
    this.cache.delete(userId);
    return this.store.delete(userId);
  }

  /** Revokes the user's token at Twitch and deletes it. */
  async revoke(userId: string, options: TokenCallOptions = {}): Promise<void> {
    const row = await this.store.get(userId);
    if (!row) throw new TokenNotFoundError({ userId });
    await this.removeUser(userId, { revoke: true, signal: options.signal });
  }

  /** Asks Twitch now whether the user's token is valid (refreshing a dead access token). */
  async validate(userId: string, options: TokenCallOptions = {}): Promise<TokenInfo> {
    return toTokenInfo(await this.refresher.validate(userId, { signal: options.signal }));
  }

  /** Refreshes the user's token now; concurrent calls share one refresh (a call with a `signal` joins a running one but is never joined). */
  async refresh(userId: string, options: TokenCallOptions = {}): Promise<AccessToken> {
    const row = await this.refresher.refresh(userId, (await this.requireRow(userId)).accessToken, { signal: options.signal });
    return this.cache.put(row).token;
  }

  /**
   * Call when Twitch answered 401 to a request made with `rejectedAccessToken`:
   * returns a refreshed token, or the newer one another caller already got.
   */
  async reportUnauthorized(userId: string, rejectedAccessToken: string): Promise<AccessToken> {
    const row = await this.requireRow(userId);
    if (row.accessToken !== rejectedAccessToken) return this.cache.put(row).token;
    return this.cache.put(await this.refresher.refresh(userId, null)).token;
  }

  /** Public facts of the user's token, or null when none is stored. */
  async getTokenInfo(userId: string): Promise<TokenInfo | null> {
    const row = await this.store.repository.get(userId);
    return row ? toTokenInfo(row) : null;
  }

  /** Public facts of every stored token, ordered by user id. Never the secrets. */
  async listTokens(): Promise<TokenInfo[]> {
    return (await this.store.listRaw()).map(toTokenInfo);
  }

  /** The Twitch authorize URL for your own route (the built-in `OAuthController` adds a signed state for you). */
  getAuthorizationUrl(options: AuthorizationUrlOptions = {}): string {
    const scopes = options.scopes ?? this.options.defaultScopes;
    checkScopes(scopes, 'scopes');
    return this.identity.authorizeUrl({ scopes, state: options.state ?? '', forceVerify: options.forceVerify });
  }

  /** Exchanges an authorization code from your own callback and stores the token. */
  async exchangeCode(code: string): Promise<TokenInfo> {
    if (this.options.clientSecret === null) {
      throw new TwitchAuthConfigError('Exchanging an authorization code needs clientSecret; public clients use the device flow.');
    }
    const grant = await this.identity.exchangeCode(code);
    const info = await this.addUser(grant.accessToken, grant.refreshToken);
    return info;
  }

  /** Starts the device-code flow: show `userCode` and `verificationUri` to the user, then `waitForDeviceToken`. */
  async startDeviceFlow(scopes: string[] = this.options.defaultScopes): Promise<DeviceCode> {
    checkScopes(scopes, 'scopes');
    return this.identity.startDeviceFlow(scopes);
  }

  /** Polls until the user approves the device code, then stores the token. */
  async waitForDeviceToken(deviceCode: DeviceCode, options: WaitForDeviceTokenOptions = {}): Promise<TokenInfo> {
    const grant = await this.deviceFlow.waitForGrant(deviceCode, options);
    return this.addUser(grant.accessToken, grant.refreshToken);
  }

  private async storeToken(token: Omit<NewStoredToken, 'status' | 'intents'> & { intents?: string[] }): Promise<TokenInfo> {
    const previous = await this.store.repository.get(token.userId);
    const intents = [...new Set([...(previous?.intents ?? []), ...(token.intents ?? [])])];
    const row = await this.store.save({ ...token, status: 'valid', intents });
    const cached = this.cache.put(row);
    const info = toTokenInfo(row);
    this.events.emit(TwitchAuthEvent.TokenAdded, new TokenIssuedEvent(info, cached.token));
    return info;
  }

  private async requireRow(userId: string): Promise<PlainToken> {
    const row = this.refresher.pendingRow(userId) ?? (await this.store.get(userId));
    if (!row) throw new TokenNotFoundError({ userId });
    return row;
  }
}
