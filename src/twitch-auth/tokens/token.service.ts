import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { SIMPLE_MODE_INTENT, TWITCH_AUTH_RESOLVED_OPTIONS, TWITCH_AUTH_TOKEN_SOURCE } from '../twitch-auth.constants.js';
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
import { missingScopes } from './scopes.js';
import { TokenCache, type CachedToken } from './token-cache.js';
import { TokenRefresher, isTransient } from './token-refresher.js';
import type { TokenSource, TokenSourceReason } from './token-source.interface.js';
import { TokenStore, toTokenInfo, type PlainToken } from './token-store.js';
import { MissingScopesError, ReauthorizationRequiredError, TokenNotFoundError } from './token.errors.js';

const NO_SCOPES: readonly string[] = Object.freeze([]);

function readRefreshKey(userId: string, scopes: readonly string[]): string {
  return scopes.length === 0 ? `${userId}|` : `${userId}|${scopes.join(' ')}`;
}

/** Parameters of `getAuthorizationUrl`. */
export interface AuthorizationUrlOptions {
  /** Scopes to ask for; `defaultScopes` when omitted. */
  scopes?: string[];
  /** Make Twitch show the consent page even if the user already agreed. */
  forceVerify?: boolean;
  /** Your CSRF state; check it in your callback before calling `exchangeCode`. */
  state?: string;
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
  private readonly loads = new Map<string, Promise<CachedToken | null>>();
  private readonly sourceRequests = new Map<string, Promise<AccessToken | null>>();
  private readonly readRefreshes = new Map<string, Promise<AccessToken>>();

  constructor(
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly refresher: TokenRefresher,
    private readonly identity: TwitchIdentityClient,
    private readonly appTokens: AppTokenProvider,
    private readonly deviceFlow: DeviceFlowPoller,
    private readonly events: TwitchAuthEventPublisher,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
    @Optional() @Inject(TWITCH_AUTH_TOKEN_SOURCE) private readonly tokenSource?: TokenSource,
  ) {}

  /** Seeds the `token` option ("simple" mode) without ever overwriting a newer stored token. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.events.enabled) {
      this.logger.warn('EventEmitterModule.forRoot() is not imported: twitch.* events will not be delivered.');
    }
    if (this.store.repository instanceof InMemoryTokenRepository) {
      this.logger.warn("Tokens are kept in memory and lost on restart: set storage: 'typeorm' (or your own TokenRepository) to keep them.");
    }
    if (this.options.token) await this.seedSimpleModeToken(this.options.token.accessToken, this.options.token.refreshToken);
  }

  /**
   * A valid token of `userId` holding every scope in `scopes`, refreshed
   * first when due. Throws `TokenNotFoundError`, `MissingScopesError` or
   * `ReauthorizationRequiredError` (after asking the `TokenSource`, if any),
   * or `TokenRefreshFailedError` when the token expired and Twitch is failing.
   */
  async getUserToken(userId: string, scopes: readonly string[] = []): Promise<AccessToken> {
    const now = Date.now();
    let entry = this.cache.get(userId);
    if (entry === undefined || now >= entry.freshUntil) entry = (await this.load(userId)) ?? undefined;
    if (entry === undefined) return this.fromSource(userId, null, scopes, 'not_found', () => new TokenNotFoundError({ userId }));
    if (entry.status === 'reauth_required') {
      return this.fromSource(userId, null, scopes, 'reauth_required', () => new ReauthorizationRequiredError(userId));
    }
    const missing = missingScopes(entry.token.scopes, scopes);
    if (missing.length > 0) {
      return this.fromSource(userId, null, scopes, 'missing_scopes', () => new MissingScopesError(userId, missing));
    }
    if (now >= entry.refreshDueAt) {
      // Callers waiting for the same refresh share one continuation instead of each running the whole path.
      const key = readRefreshKey(userId, scopes);
      let shared = this.readRefreshes.get(key);
      if (!shared) {
        shared = this.refreshForRead(entry, scopes).finally(() => this.readRefreshes.delete(key));
        this.readRefreshes.set(key, shared);
      }
      return shared;
    }
    return entry.token;
  }

  /** The access token string of `getUserToken`. The hot path costs one map lookup. */
  async getAccessToken(userId: string, scopes?: readonly string[]): Promise<string> {
    const entry = this.cache.get(userId);
    if (entry !== undefined && Date.now() < entry.usableUntil && (scopes === undefined || entry.token.hasScopes(scopes))) {
      return entry.accessToken;
    }
    return (await this.joinReadRefresh(userId, scopes ?? NO_SCOPES, entry)).accessToken;
  }

  /**
   * The running read refresh `getUserToken` would join for this entry, or
   * `getUserToken`'s own path: callers arriving during a refresh wait on the
   * shared promise without a further async step each.
   */
  private joinReadRefresh(userId: string, scopes: readonly string[], entry: CachedToken | undefined): Promise<AccessToken> {
    const now = Date.now();
    if (entry !== undefined && now < entry.freshUntil && entry.status !== 'reauth_required' && now >= entry.refreshDueAt) {
      const shared = this.readRefreshes.get(readRefreshKey(userId, scopes));
      if (shared !== undefined && missingScopes(entry.token.scopes, scopes).length === 0) return shared;
    }
    return this.getUserToken(userId, scopes);
  }

  /** The token of the user holding `intent` (e.g. `chat`), with the same guarantees as `getUserToken`. */
  async getTokenForIntent(intent: string, scopes: readonly string[] = []): Promise<AccessToken> {
    const row = await this.store.findByIntent(intent);
    if (!row) return this.fromSource(null, intent, scopes, 'not_found', () => new TokenNotFoundError({ intent }));
    return this.getUserToken(row.userId, scopes);
  }

  /** Gives `userId` the named roles `intents`; each intent moves away from any other user. */
  async addIntents(userId: string, intents: string[]): Promise<TokenInfo> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await this.store.get(userId);
      if (!row) throw new TokenNotFoundError({ userId });
      const merged = [...new Set([...row.intents, ...intents])];
      const written = await this.store.update(userId, { intents: merged }, { version: row.version });
      if (written) {
        this.cache.put(written);
        return toTokenInfo(written);
      }
    }
    throw new TwitchAuthError(`The token of user ${userId} kept changing while intents were added; try again.`);
  }

  /** Takes the named roles `intents` away from `userId`. */
  async removeIntents(userId: string, intents: string[]): Promise<TokenInfo> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await this.store.get(userId);
      if (!row) throw new TokenNotFoundError({ userId });
      const written = await this.store.update(
        userId,
        { intents: row.intents.filter((i) => !intents.includes(i)) },
        { version: row.version },
      );
      if (written) return toTokenInfo(written);
    }
    throw new TwitchAuthError(`The token of user ${userId} kept changing while intents were removed; try again.`);
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
  async removeUser(userId: string, options: { revoke?: boolean } = {}): Promise<boolean> {
    if (options.revoke) {
      const row = await this.store.get(userId);
      if (row) await this.identity.revoke(row.accessToken);
    }
    this.cache.delete(userId);
    return this.store.delete(userId);
  }

  /** Revokes the user's token at Twitch and deletes it. */
  async revoke(userId: string): Promise<void> {
    const row = await this.store.get(userId);
    if (!row) throw new TokenNotFoundError({ userId });
    await this.removeUser(userId, { revoke: true });
  }

  /** Asks Twitch now whether the user's token is valid (refreshing a dead access token). */
  async validate(userId: string): Promise<TokenInfo> {
    return toTokenInfo(await this.refresher.validate(userId));
  }

  /** Refreshes the user's token now; concurrent calls share one refresh. */
  async refresh(userId: string): Promise<AccessToken> {
    const row = await this.refresher.refresh(userId, (await this.requireRow(userId)).accessToken);
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

  private async load(userId: string): Promise<CachedToken | null> {
    let loading = this.loads.get(userId);
    if (!loading) {
      loading = this.store
        .get(userId)
        .then((row) => {
          const current = this.refresher.pendingRow(userId) ?? row;
          if (!current) {
            this.cache.delete(userId);
            return null;
          }
          return this.cache.put(current);
        })
        .finally(() => this.loads.delete(userId));
      this.loads.set(userId, loading);
    }
    return loading;
  }

  private async refreshForRead(entry: CachedToken, scopes: readonly string[]): Promise<AccessToken> {
    const userId = entry.token.userId!;
    try {
      const row = await this.refresher.refresh(userId, entry.token.accessToken);
      return this.cache.get(userId)?.token ?? this.cache.put(row).token;
    } catch (error) {
      if (error instanceof ReauthorizationRequiredError) {
        return this.fromSource(userId, null, scopes, 'reauth_required', () => error);
      }
      if (!entry.token.isExpired() && (isTransient(error) || error instanceof TwitchAuthError)) {
        return entry.token;
      }
      throw error;
    }
  }

  private async requireRow(userId: string): Promise<PlainToken> {
    const row = this.refresher.pendingRow(userId) ?? (await this.store.get(userId));
    if (!row) throw new TokenNotFoundError({ userId });
    return row;
  }

  /** Asks the `TokenSource` (once per subject at a time); throws `failure()` when there is none or it gives up. */
  private async fromSource(
    userId: string | null,
    intent: string | null,
    scopes: readonly string[],
    reason: TokenSourceReason,
    failure: () => Error,
  ): Promise<AccessToken> {
    const source = this.tokenSource;
    if (!source) throw failure();
    const key = `${userId ?? ''}|${intent ?? ''}|${reason}|${scopes.join(' ')}`;
    let request = this.sourceRequests.get(key);
    if (!request) {
      request = (async () => {
        const result = await source.obtainToken({ userId, intent, scopes: [...scopes], reason });
        if (!result) return null;
        const info = await this.addUser(result.accessToken, result.refreshToken ?? null, { intents: intent ? [intent] : [] });
        if (userId !== null && info.userId !== userId) {
          throw new TwitchAuthError(`The TokenSource returned a token of user ${info.userId} when user ${userId} was asked for.`);
        }
        const missing = missingScopes(info.scopes, scopes);
        if (missing.length > 0) throw new MissingScopesError(info.userId, missing);
        return (await this.load(info.userId))?.token ?? null;
      })().finally(() => this.sourceRequests.delete(key));
      this.sourceRequests.set(key, request);
    }
    const token = await request;
    if (!token) throw failure();
    return token;
  }

  private async seedSimpleModeToken(accessToken: string, refreshToken: string | null): Promise<void> {
    try {
      const validation = await this.identity.validate(accessToken).catch((error: unknown) => {
        if (error instanceof InvalidAccessTokenError) return null;
        throw error;
      });
      const stored = validation?.userId
        ? await this.store.repository.get(validation.userId)
        : await this.store.repository.findByIntent(SIMPLE_MODE_INTENT);
      if (stored && stored.status === 'valid') {
        if (!stored.intents.includes(SIMPLE_MODE_INTENT)) await this.addIntents(stored.userId, [SIMPLE_MODE_INTENT]);
        this.logger.log(`Simple mode: using the stored token of user ${stored.userId} (newer than the configured one).`);
        return;
      }
      const info = await this.addUser(accessToken, refreshToken, { intents: [SIMPLE_MODE_INTENT] });
      this.logger.log(`Simple mode: stored the configured token of user ${info.userId} (${info.login ?? 'unknown login'}).`);
    } catch (error) {
      this.logger.error(`Simple mode: the configured token could not be used: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
