import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS, TWITCH_AUTH_TOKEN_SOURCE } from '../twitch-auth.constants.js';
import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import { TwitchAuthEvent, TwitchAuthEventPublisher, TokenIssuedEvent, type BotReadyEvent } from '../twitch-auth.events.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { checkScopes } from '../twitch-auth.option-checks.js';
import { TwitchAuthMetrics } from '../metrics/twitch-auth.metrics.js';
import type { NewStoredToken } from '../storage/token-repository.interface.js';
import { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import type { DeviceCode } from '../twitch/twitch.types.js';
import type { AccessToken, TokenInfo } from './access-token.js';
import { AppTokenProvider } from './app-token.provider.js';
import { BotAccount, botOAuthLink, listenForLostGrants } from './bot-account.js';
import { DeviceFlowPoller, type WaitForDeviceTokenOptions } from './device-flow.js';
import { IntentReadiness } from './intent-readiness.js';
import { SimpleModeSeed } from './simple-mode-seed.js';
import { TokenCache } from './token-cache.js';
import { addUserIntents, removeUserIntents } from './token-intents.js';
import { TokenReader } from './token-reader.js';
import { TokenRefresher } from './token-refresher.js';
import type { AddTokenOptions, AuthorizationUrlOptions, TokenCallOptions } from './token-service.options.js';
import { warnAboutSetup } from './token-setup-warnings.js';
import type { TokenSource } from './token-source.interface.js';
import { TokenStore, toTokenInfo, type PlainToken } from './token-store.js';
import { ReauthorizationRequiredError, TokenNotFoundError } from './token.errors.js';
import { validateUserToken, type ValidatedUserToken } from './user-token-validation.js';

/**
 * What bot code injects. Ask for "a valid token for user X with scopes Y";
 * the service reads, refreshes (once, however many callers), and reports
 * precisely why when it cannot.
 */
@Injectable()
export class TokenService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TwitchAuth');
  private readonly reader: TokenReader;
  private readonly seed: SimpleModeSeed | undefined;
  private readonly readiness = new IntentReadiness((intent) => this.store.findByIntent(intent));
  private readonly bot: BotAccount | undefined;

  /**
   * Built by Nest's injector from the module's providers: inject this class
   * instead of constructing it.
   * @internal
   */
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
    @Optional() private readonly metrics: TwitchAuthMetrics = TwitchAuthMetrics.disabled,
  ) {
    if (options.token) {
      const seedDeps = {
        getStored: (userId: string) => store.get(userId),
        findStoredByIntent: (intent: string) => store.findByIntent(intent),
        validateToken: (accessToken: string, refreshToken: string | null) => this.validateNewToken(accessToken, refreshToken),
        storeToken: (token: ValidatedUserToken, intents: readonly string[]) => this.storeToken({ ...token, intents: [...intents] }),
        storedTokenWorks: (userId: string) => this.storedTokenWorks(userId),
        addIntents: (userId: string, intents: string[]) => this.addIntents(userId, intents),
        logger: this.logger,
      };
      this.seed = new SimpleModeSeed(seedDeps, { accessToken: options.token.accessToken, refreshToken: options.token.refreshToken });
    }
    this.reader = new TokenReader(
      store,
      cache,
      refresher,
      (accessToken, refreshToken) => this.validateNewToken(accessToken, refreshToken),
      (token, intents) => this.storeToken({ ...token, intents: [...intents] }),
      tokenSource,
      this.seed,
    );
    if (options.bot) this.bot = this.createBotAccount(options.bot);
  }

  /**
   * Seeds the `token` option ("simple" mode) without ever overwriting a newer
   * stored token that works. Boot waits for the first attempt only; after a
   * transient failure the seed is retried in the background.
   */
  async onApplicationBootstrap(): Promise<void> {
    warnAboutSetup(this.options, this.store.repository, this.events.enabled, this.logger);
    await this.seed?.start();
    await this.bot?.start();
  }

  /** Cancels a scheduled simple-mode retry and the bot account's wait, so no timer outlives the application. */
  onApplicationShutdown(): void {
    this.seed?.stop();
    this.bot?.stop();
    this.readiness.stop();
  }

  /**
   * Resolves once a valid token holds `intent` (at once when one already
   * does), e.g. the `bot` option's account after its prompt was approved.
   * Tokens stored by other instances are seen at the next store here or at
   * restart. Rejects with the signal's reason when aborted, and at shutdown.
   */
  whenReady(intent: string, options: TokenCallOptions = {}): Promise<TokenInfo> {
    return this.readiness.whenReady(intent, options.signal);
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
  async addIntents(userId: string, intents: string[]): Promise<TokenInfo> {
    const info = await addUserIntents(this.store, this.cache, userId, intents);
    this.readiness.notify(info);
    return info;
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
    const token = await this.validateNewToken(accessToken, refreshToken ?? null);
    return this.storeToken({ ...token, intents: options.intents });
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
      if (row) {
        await this.identity.revoke(row.accessToken, options.signal).then(
          () => this.metrics.revoked('success'),
          (error: unknown) => {
            this.metrics.revoked('failure');
            throw error;
          },
        );
      }
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
   * Call when Twitch answered 401 to a request made with `rejectedAccessToken`.
   * Returns a token other than the rejected one: the newer one another caller
   * or instance already stored, or a refreshed one. Refreshes only while the
   * stored row still holds the rejected token, once however many callers (in
   * this process or others) report it. Throws `ReauthorizationRequiredError`
   * when the grant is gone.
   */
  async reportUnauthorized(userId: string, rejectedAccessToken: string): Promise<AccessToken> {
    const row = await this.requireRow(userId);
    if (row.accessToken !== rejectedAccessToken && row.status === 'valid') return this.cache.put(row).token;
    return this.cache.put(await this.refresher.refresh(userId, rejectedAccessToken, { rejected: true })).token;
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

  private validateNewToken(accessToken: string, refreshToken: string | null): Promise<ValidatedUserToken> {
    return validateUserToken(this.identity, this.options.clientId, accessToken, refreshToken);
  }

  /** Whether the stored token of `userId` still works, asked through the single-flight refresher; false when its grant is gone. */
  private async storedTokenWorks(userId: string): Promise<boolean> {
    try {
      return (await this.refresher.validate(userId)).status === 'valid';
    } catch (error) {
      if (error instanceof ReauthorizationRequiredError) return false;
      throw error;
    }
  }

  /**
   * The repository adds the given intents to those the row holds when it
   * writes, in the same atomic write: reading them here first would let a
   * concurrent `addIntents` of another user be undone by this save.
   */
  private async storeToken(token: Omit<NewStoredToken, 'status' | 'intents'> & { intents?: string[] }): Promise<TokenInfo> {
    const row = await this.store.save({ ...token, status: 'valid', intents: token.intents ?? [] });
    const cached = this.cache.put(row);
    const info = toTokenInfo(row);
    this.events.emit(TwitchAuthEvent.TokenAdded, new TokenIssuedEvent(info, cached.token));
    this.readiness.notify(info);
    this.bot?.onTokenStored(info).catch((error: unknown) => this.logger.warn(`Bot account: ${String(error)}`));
    return info;
  }

  /** The `bot` option's account, fed by this service's own storage and events (see `BotAccount`). */
  private createBotAccount(bot: { intent: string; scopes: string[] }): BotAccount {
    const account = new BotAccount(
      {
        findByIntent: (intent) => this.store.findByIntent(intent),
        startDeviceFlow: (scopes) => this.identity.startDeviceFlow(scopes),
        waitForGrant: (device, signal) => this.deviceFlow.waitForGrant(device, { signal }),
        storeGrant: (grant, intents) => this.addUser(grant.accessToken, grant.refreshToken, { intents }),
        addIntents: (userId, intents) => this.addIntents(userId, intents),
        onReady: (info) => this.events.emit(TwitchAuthEvent.BotReady, { intent: bot.intent, info } satisfies BotReadyEvent),
        logger: this.logger,
      },
      { intent: bot.intent, scopes: bot.scopes, oauthLink: botOAuthLink(this.options) },
    );
    listenForLostGrants(this.events, account);
    return account;
  }

  private async requireRow(userId: string): Promise<PlainToken> {
    const row = this.refresher.pendingRow(userId) ?? (await this.store.get(userId));
    if (!row) throw new TokenNotFoundError({ userId });
    return row;
  }
}
