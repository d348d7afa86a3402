import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { TwitchAuthEvent, TwitchAuthEventPublisher, TokenIssuedEvent } from '../twitch-auth.events.js';
import type { StoredTokenChanges } from '../storage/token-repository.interface.js';
import { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import { InvalidAccessTokenError, InvalidRefreshTokenError, TwitchRateLimitError, TwitchRequestError } from '../twitch/twitch.errors.js';
import type { TokenGrant } from '../twitch/twitch.types.js';
import { TokenCache, refreshDueAt } from './token-cache.js';
import { TokenStore, toAccessToken, toTokenInfo, type PlainToken } from './token-store.js';
import { ReauthorizationRequiredError, TokenLeaseTimeoutError, TokenNotFoundError, TokenRefreshFailedError } from './token.errors.js';

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
}

interface PendingWrite {
  row: PlainToken;
  changes: StoredTokenChanges;
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
  readonly timings: RefresherTimings;
  private readonly logger = new Logger('TwitchAuth');
  private readonly refreshes = new Map<string, Promise<PlainToken>>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly pending = new Map<string, PendingWrite>();
  private readonly refreshBeforeMs: number;
  private pendingTimer: NodeJS.Timeout | null = null;
  private pendingDelayMs = 1000;
  private closed = false;

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
  }

  /**
   * Refreshes the user's token unless another caller already replaced
   * `seenAccessToken` (pass null to force). Concurrent calls share one result.
   */
  refresh(userId: string, seenAccessToken: string | null, call: MaintenanceCallOptions = {}): Promise<PlainToken> {
    const running = this.refreshes.get(userId);
    if (running) return running;
    const refresh = this.exclusively(userId, () =>
      this.withLease(userId, (row) => this.refreshHeld(row, seenAccessToken), call.skipIfLeased),
    );
    // Not shared: a caller joining it would give up on a lease it is entitled to wait for.
    if (call.skipIfLeased) return refresh;
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
    return this.exclusively(userId, () =>
      this.withLease(userId, async (row) => {
        if (row.status === 'reauth_required') throw new ReauthorizationRequiredError(userId);
        if (call.seenLastValidatedAt !== undefined && (row.lastValidatedAt ?? 0) > (call.seenLastValidatedAt ?? 0)) return row;
        try {
          const validation = await this.retrying(userId, () => this.identity.validate(row.accessToken));
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
              return await this.refreshHeld(row, null);
            } catch (refreshError) {
              if (refreshError instanceof ReauthorizationRequiredError) {
                this.events.emit(TwitchAuthEvent.TokenRevoked, {
                  userId,
                  login: row.login,
                  reason: 'Twitch reports the token invalid and it could not be refreshed',
                });
              }
              throw refreshError;
            }
          }
          if (isTransient(error)) await this.backOff(row);
          throw error;
        }
      }),
    );
  }

  /** The refreshed token still waiting to be written, if a write failed. */
  pendingRow(userId: string): PlainToken | undefined {
    return this.pending.get(userId)?.row;
  }

  /** Tries a last time to write refreshed tokens that are only in memory. */
  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.pendingTimer) clearTimeout(this.pendingTimer);
    this.pendingTimer = null;
    if (this.pending.size > 0) await this.flushPending();
    for (const userId of this.pending.keys()) {
      this.logger.error(`The refreshed token of user ${userId} could not be stored before shutdown; the user may need to authorize again.`);
    }
  }

  private async refreshHeld(row: PlainToken, seenAccessToken: string | null): Promise<PlainToken> {
    const userId = row.userId;
    if (row.status === 'reauth_required') throw new ReauthorizationRequiredError(userId);
    const now = Date.now();
    if (seenAccessToken !== null && row.accessToken !== seenAccessToken && now < refreshDueAt(row, this.refreshBeforeMs)) {
      this.cache.put(row);
      return row;
    }
    if (row.refreshToken === null) {
      if (row.expiresAt !== null && row.expiresAt <= now) {
        await this.markReauthRequired(row, 'the token expired and has no refresh token');
        throw new ReauthorizationRequiredError(userId);
      }
      if (seenAccessToken !== null) return row;
      await this.markReauthRequired(row, 'the token is invalid and has no refresh token');
      throw new ReauthorizationRequiredError(userId);
    }
    let grant: TokenGrant;
    try {
      const refreshToken = row.refreshToken;
      grant = await this.retrying(userId, () => this.identity.refresh(refreshToken));
    } catch (error) {
      if (error instanceof InvalidRefreshTokenError) {
        await this.markReauthRequired(row, error.message);
        throw new ReauthorizationRequiredError(userId, { cause: error });
      }
      await this.backOff(row);
      this.events.emit(TwitchAuthEvent.TokenRefreshFailed, { userId, permanent: false, reason: describe(error) });
      if (isTransient(error)) {
        this.logger.warn(`Refreshing the token of user ${userId} failed for now (${describe(error)}); the stored token is kept.`);
        throw new TokenRefreshFailedError(userId, { cause: error });
      }
      this.logger.error(`Refreshing the token of user ${userId} failed: ${describe(error)}`);
      throw error;
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
    await this.persist(next, changes);
    if (this.events.hasListeners(TwitchAuthEvent.TokenRefreshed)) {
      this.events.emit(TwitchAuthEvent.TokenRefreshed, new TokenIssuedEvent(toTokenInfo(next), toAccessToken(next)));
    }
    return next;
  }

  private async persist(next: PlainToken, changes: StoredTokenChanges): Promise<void> {
    try {
      const written = await this.store.update(next.userId, changes, { leaseOwner: this.instanceId });
      if (!written) {
        this.cache.delete(next.userId);
        this.logger.warn(
          `The token of user ${next.userId} was removed or replaced while it was refreshed; the refreshed token was dropped.`,
        );
      }
    } catch (error) {
      this.logger.error(
        `Storing the refreshed token of user ${next.userId} failed (${describe(error)}); it is kept in memory and the write retried.`,
      );
      this.pending.set(next.userId, { row: next, changes });
      this.schedulePendingFlush();
    }
  }

  private schedulePendingFlush(): void {
    if (this.pendingTimer || this.closed) return;
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = null;
      void this.flushPending().then(() => {
        if (this.pending.size > 0) {
          this.pendingDelayMs = Math.min(this.pendingDelayMs * 2, 30_000);
          this.schedulePendingFlush();
        } else {
          this.pendingDelayMs = 1000;
        }
      });
    }, this.pendingDelayMs);
    this.pendingTimer.unref();
  }

  private async flushPending(): Promise<void> {
    for (const [userId, write] of [...this.pending]) {
      try {
        const now = Date.now();
        await this.store.repository.acquireLease(userId, this.instanceId, now + this.timings.leaseTtlMs, now);
        await this.store.update(userId, write.changes, { leaseOwner: this.instanceId });
        this.pending.delete(userId);
        this.logger.log(`The refreshed token of user ${userId} is now stored.`);
      } catch (error) {
        this.logger.warn(`Storing the refreshed token of user ${userId} failed again (${describe(error)}); will retry.`);
      }
    }
  }

  private async markReauthRequired(row: PlainToken, reason: string): Promise<void> {
    const written = await this.store.update(row.userId, { status: 'reauth_required', leaseOwner: null }, { leaseOwner: this.instanceId });
    if (!written) return;
    this.cache.put(written);
    this.logger.warn(`User ${row.userId} must authorize again: ${reason}`);
    this.events.emit(TwitchAuthEvent.TokenRefreshFailed, { userId: row.userId, permanent: true, reason });
  }

  private async backOff(row: PlainToken): Promise<void> {
    const failureCount = row.failureCount + 1;
    const delay = Math.min(this.timings.backoffBaseMs * 2 ** (failureCount - 1), this.timings.backoffMaxMs);
    await this.store
      .update(row.userId, { failureCount, retryAt: Date.now() + delay, leaseOwner: null }, { leaseOwner: this.instanceId })
      .catch((error: unknown) => this.logger.warn(`Could not record the backoff of user ${row.userId}: ${describe(error)}`));
  }

  /** Runs `work` with the user's lease; waits (polling) while another instance holds it, unless told to skip. */
  private async withLease(userId: string, work: (row: PlainToken) => Promise<PlainToken>, skipIfLeased = false): Promise<PlainToken> {
    const deadline = Date.now() + (skipIfLeased ? 0 : this.timings.leaseWaitMs);
    let delay = 20;
    for (;;) {
      const now = Date.now();
      const held = await this.store.acquireLease(userId, this.instanceId, now + this.timings.leaseTtlMs, now);
      if (held) {
        const row = this.pending.get(userId)?.row ?? held;
        let result: PlainToken | undefined;
        try {
          result = await work(row);
          return result;
        } finally {
          // Successful writes release the lease in the same UPDATE (leaseOwner: null); only the other outcomes need a statement.
          if (!this.pending.has(userId) && result?.leaseOwner !== null) {
            await this.store.releaseLease(userId, this.instanceId).catch((error: unknown) => {
              this.logger.warn(`Could not release the lease of user ${userId} (${describe(error)}); it lapses by itself.`);
            });
          }
        }
      }
      if (!(await this.store.repository.get(userId))) {
        this.cache.delete(userId);
        throw new TokenNotFoundError({ userId });
      }
      if (Date.now() >= deadline) throw new TokenLeaseTimeoutError(userId);
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 250);
    }
  }

  /** Retries transient failures with growing, jittered delays, renewing the lease between attempts. */
  private async retrying<T>(userId: string, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (!isTransient(error) || attempt >= this.timings.attempts || this.closed) throw error;
        const backoff = this.timings.retryBaseMs * 4 ** (attempt - 1) * (0.75 + Math.random() / 2);
        const wait =
          error instanceof TwitchRateLimitError && error.retryAfterMs !== null
            ? Math.min(Math.max(error.retryAfterMs, backoff), 5_000)
            : backoff;
        await sleep(wait);
        const now = Date.now();
        const renewed = await this.store.repository.acquireLease(userId, this.instanceId, now + this.timings.leaseTtlMs, now);
        if (!renewed) throw new TokenLeaseTimeoutError(userId);
      }
    }
  }

  /** Runs tasks of one user one after another in this process. */
  private exclusively<T>(userId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(userId) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(userId, tail);
    void tail.then(() => {
      if (this.queues.get(userId) === tail) this.queues.delete(userId);
    });
    return run;
  }
}

/** True for failures a later retry may cure. */
export function isTransient(error: unknown): boolean {
  return error instanceof TwitchRequestError && error.transient;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
