import { TwitchAuthEvent, TokenIssuedEvent, type TwitchAuthEventPublisher } from '../twitch-auth.events.js';
import type { StoredTokenChanges } from '../storage/token-repository.interface.js';
import type { TwitchAuthMetrics } from '../metrics/twitch-auth.metrics.js';
import type { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import { InvalidAccessTokenError, TwitchRequestError } from '../twitch/twitch.errors.js';
import type { TokenGrant } from '../twitch/twitch.types.js';
import { refreshDueAt, type TokenCache } from './token-cache.js';
import type { TokenFailureRecorder } from './token-failure-recorder.js';
import { isTransient } from './token-failures.js';
import type { MaintenanceCallOptions } from './token-refresh-call.js';
import type { TokenLease } from './token-lease.js';
import { toAccessToken, toTokenInfo, type PlainToken, type TokenStore } from './token-store.js';
import type { TokenWriteGroup } from './token-write-group.js';
import type { TokenWriter } from './token-writer.js';
import { ReauthorizationRequiredError, TokenLeaseTimeoutError, TokenNotFoundError } from './token.errors.js';

/** What `TokenRenewal` works with: the refresher's own lease, writer and failure recorder, shared. */
export interface TokenRenewalParts {
  store: TokenStore;
  cache: TokenCache;
  identity: TwitchIdentityClient;
  events: TwitchAuthEventPublisher;
  metrics: TwitchAuthMetrics;
  lease: TokenLease;
  writer: TokenWriter;
  failures: TokenFailureRecorder;
  group: TokenWriteGroup;
  /** This process as lease holder. */
  instanceId: string;
  /** A token expiring within this is due for refresh. */
  refreshBeforeMs: number;
}

/**
 * Validates and refreshes one user's token while `TokenRefresher` holds its
 * lease (or a fresh maintenance claim): asks Twitch, writes the answer fenced
 * on the row it started from, records failures and emits the events. Callers
 * go through `TokenRefresher`, which shares flights and waits for this work at shutdown.
 */
export class TokenRenewal {
  private readonly store: TokenStore;
  private readonly cache: TokenCache;
  private readonly identity: TwitchIdentityClient;
  private readonly events: TwitchAuthEventPublisher;
  private readonly metrics: TwitchAuthMetrics;
  private readonly lease: TokenLease;
  private readonly writer: TokenWriter;
  private readonly failures: TokenFailureRecorder;
  private readonly group: TokenWriteGroup;
  private readonly instanceId: string;
  private readonly refreshBeforeMs: number;

  constructor(parts: TokenRenewalParts) {
    this.store = parts.store;
    this.cache = parts.cache;
    this.identity = parts.identity;
    this.events = parts.events;
    this.metrics = parts.metrics;
    this.lease = parts.lease;
    this.writer = parts.writer;
    this.failures = parts.failures;
    this.group = parts.group;
    this.instanceId = parts.instanceId;
    this.refreshBeforeMs = parts.refreshBeforeMs;
  }

  /**
   * Asks Twitch whether `row`'s token is still valid and stores the answer; a
   * dead access token is refreshed, a dead grant marks the user
   * `reauth_required`. `claimed`: `row` is as maintenance claimed it,
   * possibly older than a write this process made since.
   */
  async validate(
    row: PlainToken,
    call: Pick<MaintenanceCallOptions, 'seenLastValidatedAt' | 'signal'>,
    claimed = false,
  ): Promise<PlainToken> {
    const userId = row.userId;
    if (row.status === 'reauth_required') throw new ReauthorizationRequiredError(userId);
    if (call.seenLastValidatedAt !== undefined && (row.lastValidatedAt ?? 0) > (call.seenLastValidatedAt ?? 0)) return row;
    try {
      const { signal } = call;
      const validation = await this.lease.retrying(userId, () => this.identity.validate(row.accessToken, signal), signal);
      this.metrics.validated(validation.userId !== null && validation.userId !== userId ? 'invalid' : 'valid');
      if (validation.userId !== null && validation.userId !== userId) {
        await this.failures.markReauthRequired(row, `Twitch says the stored token belongs to user ${validation.userId}`);
        throw new ReauthorizationRequiredError(userId);
      }
      const now = Date.now();
      const changes: StoredTokenChanges = {
        lastValidatedAt: now,
        login: validation.login ?? row.login,
        scopes: validation.scopes,
        expiresAt: validation.expiresIn > 0 ? now + validation.expiresIn * 1000 : null,
        // A row written under a clock that ran fast carries instants from the future; Twitch's answer sets them right.
        ...(row.obtainedAt > now ? { obtainedAt: now } : {}),
        retryAt: 0,
        failureCount: 0,
        leaseOwner: null,
      };
      const condition = { leaseOwner: this.instanceId, version: row.version };
      // Secrets in an older form are rewritten by `update`; every other row shares a group commit.
      const next = this.store.needsReseal(row)
        ? await this.store.update(userId, changes, condition)
        : (await this.group.write(userId, changes, condition))
          ? { ...row, ...changes, version: row.version + 1, leaseExpiresAt: null }
          : null;
      // Not written: a newer grant or a refresh replaced the row meanwhile, and it is the answer.
      const answer = next ?? (await this.store.get(userId));
      if (!answer) throw new TokenNotFoundError({ userId });
      this.cache.putIfCached(answer);
      // Checked first, like refreshed: maintenance validates many tokens and most apps do not listen.
      if (next && this.events.hasListeners(TwitchAuthEvent.TokenValidated)) {
        this.events.emit(TwitchAuthEvent.TokenValidated, { userId, login: next.login });
      }
      return answer;
    } catch (error) {
      // Only Twitch's answers (or their absence) are validations; a storage failure after one is not.
      if (error instanceof TwitchRequestError && !call.signal?.aborted) {
        this.metrics.validated(error instanceof InvalidAccessTokenError ? 'invalid' : 'error');
      }
      if (error instanceof InvalidAccessTokenError) {
        try {
          if (claimed) return await this.refreshClaimedRejected(row, call.signal);
          return await this.refresh(row, null, false, call.signal);
        } catch (refreshError) {
          if (refreshError instanceof ReauthorizationRequiredError) this.failures.revoked(row);
          throw refreshError;
        }
      }
      if (isTransient(error) && !call.signal?.aborted) await this.failures.backOff(row);
      throw error;
    }
  }

  /**
   * A claimed row's access token was rejected: the row is read again with the
   * lease (a refresh in this process may have replaced the token since the
   * claim, and its old refresh token must never be sent), then refreshed
   * only if it still holds the rejected token.
   */
  private async refreshClaimedRejected(row: PlainToken, signal?: AbortSignal): Promise<PlainToken> {
    const current = await this.lease.take(row.userId);
    if (current === 'missing') throw new TokenNotFoundError({ userId: row.userId });
    if (current === 'held') throw new TokenLeaseTimeoutError(row.userId);
    return this.refresh(current, row.accessToken, true, signal);
  }

  /**
   * Refreshes `row` unless it no longer holds `seenAccessToken` (null forces)
   * and is not due; `rejected`: Twitch refused `seenAccessToken`, so any
   * other token in the row is the answer.
   */
  async refresh(row: PlainToken, seenAccessToken: string | null, rejected: boolean, signal?: AbortSignal): Promise<PlainToken> {
    const userId = row.userId;
    if (row.status === 'reauth_required') throw new ReauthorizationRequiredError(userId);
    const now = Date.now();
    const replaced = seenAccessToken !== null && row.accessToken !== seenAccessToken;
    // Twitch rejected the seen token: a row holding any other token was replaced since, and is the answer.
    if (replaced && (rejected || now < refreshDueAt(row, this.refreshBeforeMs))) {
      this.cache.putIfCached(row);
      return row;
    }
    if (row.refreshToken === null) {
      if (row.expiresAt !== null && row.expiresAt <= now) {
        await this.failures.markReauthRequired(row, 'the token expired and has no refresh token');
        throw new ReauthorizationRequiredError(userId);
      }
      if (seenAccessToken !== null && !rejected) return row;
      await this.failures.markReauthRequired(row, 'the token is invalid and has no refresh token');
      throw new ReauthorizationRequiredError(userId);
    }
    let grant: TokenGrant;
    const started = performance.now();
    try {
      const refreshToken = row.refreshToken;
      grant = await this.lease.retrying(userId, () => this.identity.refresh(refreshToken, signal), signal);
    } catch (error) {
      // The caller gave up before Twitch answered: nothing failed, so no backoff is recorded; the lease is released as usual.
      if (signal?.aborted) throw error;
      // Permanent only when Twitch said no; anything else (e.g. the lease lost between retries) may pass.
      const permanent = error instanceof TwitchRequestError && !error.transient;
      this.metrics.refreshed(permanent ? 'permanent_failure' : 'transient_failure', (performance.now() - started) / 1000);
      throw await this.failures.refreshFailed(row, error);
    }
    this.metrics.refreshed('success', (performance.now() - started) / 1000);
    const obtainedAt = Date.now();
    const changes: StoredTokenChanges = {
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken ?? row.refreshToken,
      scopes: grant.scopes.length > 0 ? grant.scopes : row.scopes,
      expiresAt: grant.expiresIn > 0 ? obtainedAt + grant.expiresIn * 1000 : null,
      obtainedAt,
      lastValidatedAt: obtainedAt,
      status: 'valid',
      retryAt: 0,
      failureCount: 0,
      leaseOwner: null,
    };
    const next: PlainToken = { ...row, ...changes, leaseExpiresAt: null } as PlainToken;
    this.cache.putIfCached(next);
    const outcome = await this.writer.write(next, changes, { version: row.version, accessToken: row.accessToken });
    if (outcome.kind === 'removed') throw new TokenNotFoundError({ userId });
    if (outcome.kind === 'superseded') return outcome.row;
    const result = outcome.row;
    if (this.events.hasListeners(TwitchAuthEvent.TokenRefreshed)) {
      this.events.emit(TwitchAuthEvent.TokenRefreshed, new TokenIssuedEvent(toTokenInfo(result), toAccessToken(result)));
    }
    return result;
  }
}
