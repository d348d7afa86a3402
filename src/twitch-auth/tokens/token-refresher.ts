import { Inject, Injectable, Logger, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { hostname } from 'node:os';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { TwitchAuthEventPublisher } from '../twitch-auth.events.js';
import { MAX_RETRY_DELAY_MS } from '../storage/token-repository.interface.js';
import { TwitchAuthMetrics } from '../metrics/twitch-auth.metrics.js';
import { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import { TokenCache } from './token-cache.js';
import { TokenFailureRecorder } from './token-failure-recorder.js';
import { TokenLease } from './token-lease.js';
import type { MaintenanceCallOptions } from './token-refresh-call.js';
import { TokenRenewal } from './token-renewal.js';
import { TokenStore, type PlainToken } from './token-store.js';
import { MAX_RATE_LIMIT_WAIT_MS, type RefresherTimings } from './token-timings.js';
import { TokenWriteGroup } from './token-write-group.js';
import { TokenWriter } from './token-writer.js';
import { TokenLeaseTimeoutError } from './token.errors.js';
/** See `RefresherTimings.takeoverGraceMs`. */
const TAKEOVER_GRACE_MS = 10_000;
/** Time given to writes still pending at shutdown when in-flight work used up the bound. */
const MIN_FINAL_WRITE_MS = 3_000;

/** One refresh in flight in this process, and the access token it started from. */
interface Flight {
  from: string;
  promise: Promise<PlainToken>;
  /** Gives up when another instance holds the lease; callers who may wait start their own after it. */
  skipIfLeased: boolean;
}

/**
 * The one place tokens are refreshed and validated. Every path (a due token
 * at read, an explicit `refresh`, a 401 retry, the scheduler, validation)
 * comes here, so:
 * - in this process, a refresh of one user is shared by every caller who saw
 *   the same access token; others queue behind it and re-read;
 * - across processes, a per-user lease in the repository lets one instance
 *   refresh while the others wait and then read its result;
 * - a refreshed token is written only on the grant it refreshed (fenced) and
 *   before the lease is released; if the write fails the token is kept in
 *   memory (and the lease renewed) until it lands;
 * - at shutdown every refresh in flight, and its write, ends before storage
 *   closes.
 */
@Injectable()
export class TokenRefresher implements BeforeApplicationShutdown {
  /** Identifies this process as lease holder. */
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Shared with the lease, writer and failure recorder, which read it on every use, so a change applies at once. */
  readonly timings: RefresherTimings;
  private readonly logger = new Logger('TwitchAuth');
  private readonly flights = new Map<string, Flight>();
  /** Every refresh and validation under way, waited for at shutdown. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly timeoutMs: number;
  private readonly writer: TokenWriter;
  private readonly lease: TokenLease;
  private readonly renewal: TokenRenewal;

  constructor(
    store: TokenStore,
    cache: TokenCache,
    identity: TwitchIdentityClient,
    events: TwitchAuthEventPublisher,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) options: ResolvedTwitchAuthOptions,
    @Optional() metrics: TwitchAuthMetrics = TwitchAuthMetrics.disabled,
  ) {
    this.timeoutMs = options.twitch.timeoutMs;
    const leaseTtlMs = Math.max(30_000, options.twitch.timeoutMs * 4);
    this.timings = {
      attempts: 3,
      retryBaseMs: 250,
      leaseTtlMs,
      takeoverGraceMs: TAKEOVER_GRACE_MS,
      leaseWaitMs: leaseTtlMs + TAKEOVER_GRACE_MS + 5_000,
      backoffBaseMs: 30_000,
      backoffMaxMs: MAX_RETRY_DELAY_MS,
    };
    const group = new TokenWriteGroup((writes) => store.updateMany(writes));
    this.writer = new TokenWriter(store, cache, this.instanceId, this.timings, this.logger, (token) => identity.revoke(token), group);
    this.lease = new TokenLease(store, cache, this.writer, this.instanceId, this.timings, this.logger, () => metrics.leaseWaited());
    const failures = new TokenFailureRecorder(store, cache, events, this.instanceId, this.timings, this.logger);
    this.renewal = new TokenRenewal({
      store,
      cache,
      identity,
      events,
      metrics,
      lease: this.lease,
      writer: this.writer,
      failures,
      group,
      instanceId: this.instanceId,
      refreshBeforeMs: options.maintenance.refreshBeforeExpirySeconds * 1000,
    });
  }

  /**
   * Refreshes the user's token unless another caller already replaced
   * `seenAccessToken` with one that is not due (pass null to force). Callers
   * who saw the same token share one refresh.
   */
  refresh(userId: string, seenAccessToken: string | null, call: MaintenanceCallOptions = {}): Promise<PlainToken> {
    const running = seenAccessToken === null ? undefined : this.flights.get(userId);
    // A caller who may give up joins like the others, but only its own wait ends with the abort.
    if (running && running.from === seenAccessToken && call.signal) {
      return untilAborted(this.refresh(userId, seenAccessToken, { ...call, signal: undefined }), call.signal);
    }
    if (running && running.from === seenAccessToken) {
      // A refresh that ends on the rejected token (none was possible) or gave up on a lease is not an answer for these callers.
      const again = (): Promise<PlainToken> => this.startRefresh(userId, seenAccessToken, call);
      const mayRetry = running.skipIfLeased && !call.skipIfLeased;
      if (!call.rejected && !mayRetry) return running.promise;
      return running.promise.then(
        (row) => (call.rejected && row.accessToken === seenAccessToken ? again() : row),
        (error: unknown) => {
          if (mayRetry && error instanceof TokenLeaseTimeoutError) return again();
          throw error;
        },
      );
    }
    return this.startRefresh(userId, seenAccessToken, call);
  }

  /**
   * Asks Twitch whether the user's token is still valid and records the
   * answer. A dead access token is refreshed; a dead grant marks the user
   * `reauth_required` and emits `twitch.token.revoked` once.
   */
  validate(userId: string, call: MaintenanceCallOptions = {}): Promise<PlainToken> {
    return this.track(
      this.lease.exclusively(userId, () =>
        this.lease.hold(userId, (row) => this.renewal.validate(row, call), call.skipIfLeased, call.signal),
      ),
    );
  }

  /**
   * Maintenance: validates a row it claimed (its lease taken with the batch
   * at `claimedAt`, on `performance.now()`) without taking the lease again.
   * A claim older than half the lease time, a pending write or shutdown
   * sends it the usual way, through `validate`.
   */
  validateClaimed(row: PlainToken, claimedAt: number): Promise<PlainToken> {
    const call: MaintenanceCallOptions = { skipIfLeased: true, seenLastValidatedAt: row.lastValidatedAt };
    return this.track(
      this.lease.exclusively(row.userId, () =>
        this.claimStillFresh(row.userId, claimedAt)
          ? this.renewal.validate(row, call, true)
          : this.lease.hold(row.userId, (held) => this.renewal.validate(held, call), true),
      ),
    );
  }

  /**
   * Maintenance: refreshes a row it claimed, from the claimed row, unless a
   * claim gone stale (see `validateClaimed`, or other work in this process
   * took the user since) sends it through the lease as `refresh` does.
   */
  refreshClaimed(row: PlainToken, claimedAt: number): Promise<PlainToken> {
    return this.track(
      this.lease.exclusively(row.userId, () =>
        this.claimStillFresh(row.userId, claimedAt)
          ? this.renewal.refresh(row, row.accessToken, false)
          : this.lease.hold(row.userId, (held) => this.renewal.refresh(held, row.accessToken, false), true),
      ),
    );
  }

  /** Maintenance claimed these users' leases; see `TokenLease.noteClaimed`. */
  noteClaimed(userIds: readonly string[]): void {
    this.lease.noteClaimed(userIds);
  }

  /**
   * The claim is young enough that no other instance can have taken the lease
   * over (that takes a lease time of watching it unchanged), and nothing in
   * this process worked on the user since.
   */
  private claimStillFresh(userId: string, claimedAt: number): boolean {
    return (
      !this.lease.closed &&
      !this.writer.isPending(userId) &&
      this.lease.claimUntouched(userId) &&
      performance.now() - claimedAt < this.timings.leaseTtlMs / 2
    );
  }

  /** Whether maintenance should try a due row now; see `TokenLease.mayTake`. */
  mayTake(row: Pick<PlainToken, 'userId' | 'leaseOwner' | 'leaseExpiresAt'>): boolean {
    return this.lease.mayTake(row);
  }

  /** Maintenance is done with its claims: `unwritten` ones are released (see `TokenLease.releaseMany`). */
  async releaseClaims(worked: readonly string[], unwritten: readonly string[]): Promise<void> {
    this.lease.forgetClaims(worked);
    try {
      await this.lease.releaseMany(unwritten);
    } finally {
      this.lease.forgetClaims(unwritten);
    }
  }

  /** The refreshed token still waiting to be written, if a write failed. */
  pendingRow(userId: string): PlainToken | undefined {
    return this.writer.pendingRow(userId);
  }

  /**
   * Runs before storage closes (TypeORM closes its DataSource in
   * `onApplicationShutdown`): refuses new work, waits for every refresh and
   * validation in flight and their writes, bounded by the worst case of one
   * refresh (every attempt timing out, with its backoffs), then lands or
   * reports every write still pending.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.lease.close();
    const deadline = Date.now() + this.shutdownBoundMs();
    if (this.inFlight.size > 0) {
      this.logger.log(
        `Waiting for ${this.inFlight.size} token refresh(es) or validation(s) in flight before storage closes (at most ${Math.ceil((deadline - Date.now()) / 1000)} s).`,
      );
      const settled = Promise.allSettled([...this.inFlight]);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
      });
      const result = await Promise.race([settled, bound]);
      clearTimeout(timer);
      if (result === 'timeout') {
        this.logger.error(
          `${this.inFlight.size} token refresh(es) were still running when shutdown could wait no longer; their results are lost.`,
        );
      }
    }
    await this.writer.close(Math.max(deadline, Date.now() + MIN_FINAL_WRITE_MS));
  }

  /** The longest one refresh can take: every attempt timing out, the backoffs between them, and its write. */
  shutdownBoundMs(): number {
    const { attempts, retryBaseMs } = this.timings;
    let backoffs = 0;
    for (let attempt = 1; attempt < attempts; attempt++) {
      backoffs += Math.max(retryBaseMs * 4 ** (attempt - 1) * 1.25, MAX_RATE_LIMIT_WAIT_MS);
    }
    return attempts * this.timeoutMs + backoffs + this.timeoutMs;
  }

  private startRefresh(userId: string, seenAccessToken: string | null, call: MaintenanceCallOptions): Promise<PlainToken> {
    const promise = this.track(
      this.lease.exclusively(userId, () =>
        this.lease.hold(
          userId,
          (row) => this.renewal.refresh(row, seenAccessToken, call.rejected === true, call.signal),
          call.skipIfLeased,
          call.signal,
        ),
      ),
    );
    // A refresh its caller may abort is joined by nobody: the others would inherit the abort.
    if (seenAccessToken === null || call.signal) return promise;
    const flight: Flight = { from: seenAccessToken, promise, skipIfLeased: call.skipIfLeased === true };
    this.flights.set(userId, flight);
    const forget = (): void => {
      if (this.flights.get(userId) === flight) this.flights.delete(userId);
    };
    promise.then(forget, forget);
    return promise;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = (): void => {
      this.inFlight.delete(work);
    };
    work.then(done, done);
    return work;
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
