import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { TwitchAuthEvent, TwitchAuthEventPublisher, TokenIssuedEvent } from '../twitch-auth.events.js';
import type { StoredTokenChanges } from '../storage/token-repository.interface.js';
import { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import { InvalidAccessTokenError } from '../twitch/twitch.errors.js';
import type { TokenGrant } from '../twitch/twitch.types.js';
import { TokenCache, refreshDueAt } from './token-cache.js';
import { TokenFailureRecorder } from './token-failure-recorder.js';
import { isTransient } from './token-failures.js';
import { TokenLease } from './token-lease.js';
import { TokenStore, toAccessToken, toTokenInfo, type PlainToken } from './token-store.js';
import { TokenWriter } from './token-writer.js';
import { ReauthorizationRequiredError } from './token.errors.js';

/** Retry and lease timings; tests may shorten them through the `TokenRefresher.timings` field. */
export interface RefresherTimings {
  /** Attempts of one Twitch request before a transient failure is reported. */
  attempts: number;
  /** First backoff between attempts; grows fourfold. */
  retryBaseMs: number;
  /** How long a lease is held before it lapses if its holder vanished. */
  leaseTtlMs: number;
  /** How long a caller waits for another instance's lease. */
  leaseWaitMs: number;
  /** Backoff of a token's maintenance after a transient failure: base, doubling, capped. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/**
 * How the maintenance scheduler calls the refresher: it must neither wait on
 * nor repeat work another instance is doing or has just done.
 */
export interface MaintenanceCallOptions {
  /** Fail at once with `TokenLeaseTimeoutError` instead of waiting when another instance holds the user's lease. */
  skipIfLeased?: boolean;
  /** `validate` only: the `lastValidatedAt` the caller saw; nothing is done when the token was validated or refreshed since. */
  seenLastValidatedAt?: number | null;
  /**
   * Gives up (rejecting with the signal's reason) while waiting for a lease or
   * for Twitch's answer. Once Twitch answered, the result is still stored:
   * a refreshed token is never dropped because its caller left.
   */
  signal?: AbortSignal;
}

/**
 * The one place tokens are refreshed and validated. Every path (a due token
 * at read, an explicit `refresh`, a 401 retry, the scheduler) comes here, so:
 * - in this process, concurrent refreshes of one user share one request;
 * - across processes, a per-user lease in the repository lets one instance
 *   refresh while the others wait and then read its result;
 * - a refreshed token is written before the lease is released; if the write
 *   fails the token is kept in memory (and the lease renewed) until it lands.
 */
@Injectable()
export class TokenRefresher implements OnApplicationShutdown {
  /** Identifies this process as lease holder. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Shared with the lease, writer and failure recorder, which read it on every use, so a change applies at once. */
  readonly timings: RefresherTimings;
  private readonly logger = new Logger('TwitchAuth');
  private readonly refreshes = new Map<string, Promise<PlainToken>>();
  private readonly refreshBeforeMs: number;
  private readonly writer: TokenWriter;
  private readonly lease: TokenLease;
  private readonly failures: TokenFailureRecorder;

  constructor(
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly identity: TwitchIdentityClient,
    private readonly events: TwitchAuthEventPublisher,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) options: ResolvedTwitchAuthOptions,
  ) {
    this.refreshBeforeMs = options.maintenance.refreshBeforeExpirySeconds * 1000;
    const leaseTtlMs = Math.max(30_000, options.twitch.timeoutMs * 4);
    this.timings = {
      attempts: 3,
      retryBaseMs: 250,
      leaseTtlMs,
      leaseWaitMs: leaseTtlMs + 5_000,
      backoffBaseMs: 30_000,
      backoffMaxMs: 15 * 60_000,
    };
    this.writer = new TokenWriter(store, cache, this.instanceId, this.timings, this.logger);
    this.lease = new TokenLease(store, cache, this.writer, this.instanceId, this.timings, this.logger);
    this.failures = new TokenFailureRecorder(store, cache, events, this.instanceId, this.timings, this.logger);
  }

  /**
   * Refreshes the user's token unless another caller already replaced
   * `seenAccessToken` (pass null to force). Concurrent calls share one result.
   */
  refresh(userId: string, seenAccessToken: string | null, call: MaintenanceCallOptions = {}): Promise<PlainToken> {
    const running = this.refreshes.get(userId);
    if (running) return call.signal ? untilAborted(running, call.signal) : running;
    const { signal } = call;
    const refresh = this.lease.exclusively(userId, () =>
      this.lease.hold(userId, (row) => this.refreshHeld(row, seenAccessToken, signal), call.skipIfLeased, signal),
    );
    // Not shared: a caller joining it would give up on a lease it is entitled to wait for, or with this caller's signal.
    if (call.skipIfLeased || signal) return refresh;
    const shared = refresh.finally(() => this.refreshes.delete(userId));
    this.refreshes.set(userId, shared);
    return shared;
  }

  /**
   * Asks Twitch whether the user's token is still valid and records the
   * answer. A dead access token is refreshed; a dead grant marks the user
   * `reauth_required` and emits `twitch.token.revoked` once.
   */
  validate(userId: string, call: MaintenanceCallOptions = {}): Promise<PlainToken> {
    const { signal } = call;
    return this.lease.exclusively(userId, () =>
      this.lease.hold(
        userId,
        async (row) => {
          if (row.status === 'reauth_required') throw new ReauthorizationRequiredError(userId);
          if (call.seenLastValidatedAt !== undefined && (row.lastValidatedAt ?? 0) > (call.seenLastValidatedAt ?? 0)) return row;
          try {
            const validation = await this.lease.retrying(userId, () => this.identity.validate(row.accessToken, signal), signal);
            const now = Date.now();
            const changes: StoredTokenChanges = {
              lastValidatedAt: now,
              login: validation.login ?? row.login,
              scopes: validation.scopes,
              expiresAt: validation.expiresIn > 0 ? now + validation.expiresIn * 1000 : null,
              retryAt: 0,
              failureCount: 0,
              leaseOwner: null,
            };
            const written = await this.store.update(userId, changes, { leaseOwner: this.instanceId });
            const next = written ?? { ...row, ...changes };
            this.cache.put(next);
            return next;
          } catch (error) {
            if (error instanceof InvalidAccessTokenError) {
              try {
                return await this.refreshHeld(row, null, signal);
              } catch (refreshError) {
                if (refreshError instanceof ReauthorizationRequiredError) this.failures.revoked(row);
                throw refreshError;
              }
            }
            if (isTransient(error) && !signal?.aborted) await this.failures.backOff(row);
            throw error;
          }
        },
        false,
        signal,
      ),
    );
  }

  /** The refreshed token still waiting to be written, if a write failed. */
  pendingRow(userId: string): PlainToken | undefined {
    return this.writer.pendingRow(userId);
  }

  /** Tries a last time to write refreshed tokens that are only in memory. */
  async onApplicationShutdown(): Promise<void> {
    this.lease.close();
    await this.writer.close();
  }

  private async refreshHeld(row: PlainToken, seenAccessToken: string | null, signal?: AbortSignal): Promise<PlainToken> {
    const userId = row.userId;
    if (row.status === 'reauth_required') throw new ReauthorizationRequiredError(userId);
    const now = Date.now();
    if (seenAccessToken !== null && row.accessToken !== seenAccessToken && now < refreshDueAt(row, this.refreshBeforeMs)) {
      this.cache.put(row);
      return row;
    }
    if (row.refreshToken === null) {
      if (row.expiresAt !== null && row.expiresAt <= now) {
        await this.failures.markReauthRequired(row, 'the token expired and has no refresh token');
        throw new ReauthorizationRequiredError(userId);
      }
      if (seenAccessToken !== null) return row;
      await this.failures.markReauthRequired(row, 'the token is invalid and has no refresh token');
      throw new ReauthorizationRequiredError(userId);
    }
    let grant: TokenGrant;
    try {
      const refreshToken = row.refreshToken;
      grant = await this.lease.retrying(userId, () => this.identity.refresh(refreshToken, signal), signal);
    } catch (error) {
      // The caller gave up before Twitch answered: nothing failed, so no backoff is recorded; the lease is released as usual.
      if (signal?.aborted) throw error;
      throw await this.failures.refreshFailed(row, error);
    }
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
    this.cache.put(next);
    await this.writer.write(next, changes);
    if (this.events.hasListeners(TwitchAuthEvent.TokenRefreshed)) {
      this.events.emit(TwitchAuthEvent.TokenRefreshed, new TokenIssuedEvent(toTokenInfo(next), toAccessToken(next)));
    }
    return next;
  }
}

/** `work`'s outcome, or a rejection with the signal's reason as soon as it is aborted (`work` itself carries on). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
