import { TwitchAuthError } from '../twitch-auth.errors.js';
import type { AccessToken } from './access-token.js';
import { missingScopes } from './scopes.js';
import type { CachedToken, TokenCache } from './token-cache.js';
import { isTransient } from './token-failures.js';
import type { TokenRefresher } from './token-refresher.js';
import type { TokenSource, TokenSourceReason } from './token-source.interface.js';
import type { TokenStore } from './token-store.js';
import { MissingScopesError, ReauthorizationRequiredError, TokenNotFoundError, TokenSourceWrongUserError } from './token.errors.js';
import type { StoreUserToken, ValidateUserToken } from './user-token-validation.js';

const NO_SCOPES: readonly string[] = Object.freeze([]);

function readRefreshKey(userId: string, scopes: readonly string[]): string {
  return scopes.length === 0 ? `${userId}|` : `${userId}|${scopes.join(' ')}`;
}

/**
 * The simple-mode seed as reads see it: a "not found" while it has not
 * landed may be premature, so the read waits for one attempt first.
 */
export interface SeedGate {
  /** True while the seed has neither landed nor been given up. */
  readonly pending: boolean;
  /** Waits for one seed attempt if pending; resolves to the error to report for `subject` when still missing, else null. */
  beforeNotFound(subject: { userId?: string; intent?: string }): Promise<Error | null>;
}

/**
 * `TokenService`'s read path: serves the cached token, loads it from the
 * store once per user at a time, refreshes a due token once however many
 * callers ask, and falls back to the `TokenSource` when no usable token is
 * stored.
 */
export class TokenReader {
  private readonly loads = new Map<string, Promise<CachedToken | null>>();
  private readonly sourceRequests = new Map<string, Promise<AccessToken | null>>();
  private readonly readRefreshes = new Map<string, Promise<AccessToken>>();

  constructor(
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly refresher: TokenRefresher,
    private readonly validateToken: ValidateUserToken,
    private readonly storeToken: StoreUserToken,
    private readonly tokenSource: TokenSource | undefined,
    private readonly seed: SeedGate | undefined,
  ) {}

  /** See `TokenService.getUserToken`. */
  async getUserToken(userId: string, scopes: readonly string[]): Promise<AccessToken> {
    if (!Array.isArray(scopes)) {
      throw new TypeError(`scopes must be an array of scope names, e.g. ['chat:read']; got ${typeof scopes}.`);
    }
    const now = Date.now();
    let entry = this.cache.get(userId);
    if (entry === undefined || now >= entry.freshUntil) entry = (await this.load(userId)) ?? undefined;
    if (entry === undefined && this.seed?.pending) {
      await this.seed.beforeNotFound({ userId });
      entry = (await this.load(userId)) ?? undefined;
    }
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

  /**
   * See `TokenService.getAccessToken`. Not `async`: a usable cached token is
   * answered with the cache's settled promise, so the hot path allocates
   * nothing; anything else (including a `scopes` that is not an array) takes
   * the async path and so rejects rather than throws.
   */
  getAccessToken(userId: string, scopes?: readonly string[]): Promise<string> {
    if (scopes === undefined || Array.isArray(scopes)) {
      const hot = this.cache.usableAccessToken(userId, Date.now(), scopes);
      if (hot !== undefined) return hot;
    }
    return this.readAccessToken(userId, scopes ?? NO_SCOPES);
  }

  /** See `TokenService.getTokenForIntent`. */
  async getTokenForIntent(intent: string, scopes: readonly string[]): Promise<AccessToken> {
    let row = await this.store.findByIntent(intent);
    let seedFailure: Error | null = null;
    if (!row && this.seed) {
      const pending = this.seed.pending;
      seedFailure = await this.seed.beforeNotFound({ intent });
      if (pending) row = await this.store.findByIntent(intent);
    }
    if (!row) return this.fromSource(null, intent, scopes, 'not_found', () => seedFailure ?? new TokenNotFoundError({ intent }));
    return this.getUserToken(row.userId, scopes);
  }

  private async readAccessToken(userId: string, scopes: readonly string[]): Promise<string> {
    return (await this.joinReadRefresh(userId, scopes, this.cache.get(userId))).accessToken;
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
        // Checked before anything is stored: a token of the wrong user or lacking scopes must not replace a stored grant.
        const token = await this.validateToken(result.accessToken, result.refreshToken ?? null);
        if (userId !== null && token.userId !== userId) throw new TokenSourceWrongUserError(userId, token.userId);
        const missing = missingScopes(token.scopes, scopes);
        if (missing.length > 0) throw new MissingScopesError(token.userId, missing);
        const info = await this.storeToken(token, intent ? [intent] : []);
        return (await this.load(info.userId))?.token ?? null;
      })().finally(() => this.sourceRequests.delete(key));
      this.sourceRequests.set(key, request);
    }
    const token = await request;
    if (!token) throw failure();
    return token;
  }
}
