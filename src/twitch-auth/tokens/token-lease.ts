import type { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TwitchRateLimitError } from '../twitch/twitch.errors.js';
import { describeError, isTransient } from './token-failures.js';
import type { TokenCache } from './token-cache.js';
import { MAX_RATE_LIMIT_WAIT_MS, type RefresherTimings } from './token-timings.js';
import type { PlainToken, TokenStore } from './token-store.js';
import type { TokenWriter } from './token-writer.js';
import { TokenLeaseTimeoutError, TokenNotFoundError, TwitchAuthShuttingDownError } from './token.errors.js';

/** `now` for `acquireLease` that lapses no live lease: only a free lease, or our own, is taken. */
const FREE_ONLY = 0;
/** Leases of other instances being watched at once; the oldest observation is dropped beyond this. */
const MAX_OBSERVED_LEASES = 10_000;

/** Another instance's lease as this process first saw it. */
interface ObservedLease {
  owner: string;
  expiresAt: number | null;
  /** When it was first seen unchanged, on this process's monotonic clock. */
  since: number;
}

/** Why `take` did not hand the lease over. */
export type LeaseRefusal = 'held' | 'missing';

/**
 * Who may work on a user's token right now: tasks of one user run one after
 * another in this process, and across processes the per-user lease in the
 * repository lets one instance work while the others wait for it.
 *
 * Whether another instance's lease lapsed is never decided by comparing its
 * deadline with this process's clock: a clock minutes fast would take over
 * live leases. A lease is taken over only after this process watched it stay
 * unchanged (same holder, same deadline: the holder renews it while it
 * works) for the lease time, measured on its own monotonic clock; a failed
 * database call here restarts every watch. The new holder then waits a grace
 * period before working: a previous holder whose database calls failed lands
 * its pending write meanwhile (that write needs no lease), and the work sees it.
 */
export class TokenLease {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly observed = new Map<string, ObservedLease>();
  /** Users whose lease maintenance claimed in a batch and has not let go of, each true once other work here took it too. */
  private readonly claims = new Map<string, boolean>();
  private closing = false;

  constructor(
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly writer: TokenWriter,
    private readonly instanceId: string,
    private readonly timings: Readonly<RefresherTimings>,
    private readonly logger: Logger,
    /** Called once per `hold` that finds another instance's lease and waits. */
    private readonly onWait: () => void = () => undefined,
  ) {}

  /**
   * Shutdown has begun: work that has not taken its lease yet is refused
   * (`TwitchAuthShuttingDownError`); work that holds one finishes, retries included.
   */
  close(): void {
    this.closing = true;
  }

  /** True once shutdown began. */
  get closed(): boolean {
    return this.closing;
  }

  /**
   * Whether a due row found leased by another instance is worth a `take`
   * now: only once its lease was seen unchanged for the lease time (the
   * watch `take` keeps, started here without a statement). Rows with a free
   * lease, or ours, always are.
   */
  mayTake(row: Pick<PlainToken, 'userId' | 'leaseOwner' | 'leaseExpiresAt'>): boolean {
    if (row.leaseOwner === null || row.leaseOwner === this.instanceId) return true;
    const seen = this.observed.get(row.userId);
    if (!seen || seen.owner !== row.leaseOwner || seen.expiresAt !== row.leaseExpiresAt) {
      this.observe(row.userId, { owner: row.leaseOwner, expiresAt: row.leaseExpiresAt, since: performance.now() });
      return false;
    }
    return performance.now() - seen.since >= this.timings.leaseTtlMs;
  }

  /**
   * Releases this instance's leases of `userIds` in one statement, between
   * the tasks of each user in this process: a lease that work in this
   * process took meanwhile (same owner) is released only after that work.
   * Leases kept for a refreshed token still waiting to be written stay.
   */
  async releaseMany(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    let finish!: () => void;
    const released = new Promise<void>((resolve) => (finish = resolve));
    const entered = userIds.map(
      (userId) =>
        new Promise<void>((enter) => {
          void this.exclusively(userId, () => {
            enter();
            return released;
          });
        }),
    );
    try {
      await Promise.all(entered);
      await this.store.releaseLeases(
        userIds.filter((userId) => !this.writer.isPending(userId)),
        this.instanceId,
      );
    } finally {
      finish();
    }
  }

  /** Maintenance claimed these users' leases in one statement. */
  noteClaimed(userIds: readonly string[]): void {
    for (const userId of userIds) this.claims.set(userId, false);
  }

  /**
   * True while the claimed row is still the one to work from: no other work
   * in this process took the user's lease since the claim (it shares this
   * instance's lease, so only this bookkeeping tells).
   */
  claimUntouched(userId: string): boolean {
    return this.claims.get(userId) === false;
  }

  /** Maintenance is done with these claims. */
  forgetClaims(userIds: readonly string[]): void {
    for (const userId of userIds) this.claims.delete(userId);
  }

  /** Runs tasks of one user one after another in this process. */
  exclusively<T>(userId: string, task: () => Promise<T>): Promise<T> {
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

  /**
   * Runs `work` with the user's lease; waits (polling) while another instance
   * holds it, unless told to skip. While a refreshed token of this user is
   * still only in memory, that token is the answer: it was just obtained, and
   * working from it would fence its own pending write out. `signal` stops
   * the wait with its reason.
   */
  async hold(
    userId: string,
    work: (row: PlainToken) => Promise<PlainToken>,
    skipIfLeased = false,
    signal?: AbortSignal,
  ): Promise<PlainToken> {
    const deadline = Date.now() + (skipIfLeased ? 0 : this.timings.leaseWaitMs);
    if (this.claims.has(userId)) this.claims.set(userId, true);
    let delay = 20;
    let waited = false;
    for (;;) {
      signal?.throwIfAborted();
      const pending = this.writer.pendingRow(userId);
      if (pending) return pending;
      if (this.closing) throw new TwitchAuthShuttingDownError(userId);
      const held = await this.take(userId);
      if (held === 'missing') {
        this.cache.delete(userId);
        throw new TokenNotFoundError({ userId });
      }
      if (held !== 'held') {
        let result: PlainToken | undefined;
        try {
          result = await work(held);
          return result;
        } finally {
          // Successful writes release the lease in the same UPDATE (leaseOwner: null); only the other outcomes need a statement.
          if (!this.writer.isPending(userId) && result?.leaseOwner !== null) {
            await this.store.releaseLease(userId, this.instanceId).catch((error: unknown) => {
              this.logger.warn(`Could not release the lease of user ${userId} (${describeError(error)}); it lapses by itself.`);
            });
          }
        }
      }
      if (Date.now() >= deadline) throw new TokenLeaseTimeoutError(userId);
      if (!waited) this.onWait();
      waited = true;
      await sleep(delay * (0.5 + Math.random()), undefined, { signal });
      delay = Math.min(delay * 2, 250);
    }
  }

  /**
   * Takes the user's lease when it is free or ours, or when another
   * instance's lease was seen unchanged for the lease time (then, before
   * answering, waits the grace period for a write its holder may still land).
   * Returns the row as it is then (secrets decrypted), with the lease held.
   */
  async take(userId: string): Promise<PlainToken | LeaseRefusal> {
    try {
      const until = Date.now() + this.timings.leaseTtlMs;
      const free = await this.store.acquireLease(userId, this.instanceId, until, FREE_ONLY);
      if (free) {
        this.observed.delete(userId);
        return free;
      }
      const row = await this.store.repository.get(userId);
      if (!row) {
        this.observed.delete(userId);
        return 'missing';
      }
      // Released between the two statements: the next attempt takes it.
      if (row.leaseOwner === null || row.leaseOwner === this.instanceId) return 'held';
      const now = performance.now();
      const seen = this.observed.get(userId);
      if (!seen || seen.owner !== row.leaseOwner || seen.expiresAt !== row.leaseExpiresAt) {
        this.observe(userId, { owner: row.leaseOwner, expiresAt: row.leaseExpiresAt, since: now });
        return 'held';
      }
      const unchangedMs = now - seen.since;
      if (unchangedMs < this.timings.leaseTtlMs) return 'held';
      // Lapses the lease only if its deadline is still the one watched: a renewal in between keeps it.
      const taken = await this.store.acquireLease(
        userId,
        this.instanceId,
        Date.now() + this.timings.leaseTtlMs,
        seen.expiresAt ?? FREE_ONLY,
      );
      if (!taken) return 'held';
      this.observed.delete(userId);
      this.logger.warn(
        `Took over the lease of user ${userId} from ${seen.owner}: it had not changed for ${Math.round(unchangedMs / 1000)} s (holder gone or stalled); waiting ${Math.round(this.timings.takeoverGraceMs / 1000)} s for a write it may still land.`,
      );
      // The previous holder may hold a refreshed token it could not write (its database calls failed too). That write
      // needs no lease, only the unchanged grant: wait for it, then work from the row as it is now.
      await sleep(this.timings.takeoverGraceMs);
      return (await this.store.acquireLease(userId, this.instanceId, Date.now() + this.timings.leaseTtlMs, FREE_ONLY)) ?? 'held';
    } catch (error) {
      this.observed.clear();
      throw error;
    }
  }

  /**
   * Retries transient failures with growing, jittered delays, renewing the
   * lease between attempts. Once `signal` is aborted, the failure is thrown
   * instead of retried, and a wait between attempts ends with its reason.
   */
  async retrying<T>(userId: string, request: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (!isTransient(error) || attempt >= this.timings.attempts || signal?.aborted) throw error;
        const backoff = this.timings.retryBaseMs * 4 ** (attempt - 1) * (0.75 + Math.random() / 2);
        const wait =
          error instanceof TwitchRateLimitError && error.retryAfterMs !== null
            ? Math.min(Math.max(error.retryAfterMs, backoff), MAX_RATE_LIMIT_WAIT_MS)
            : backoff;
        await sleep(wait, undefined, { signal });
        const renewed = await this.store.repository.acquireLease(userId, this.instanceId, Date.now() + this.timings.leaseTtlMs, FREE_ONLY);
        if (!renewed) throw new TokenLeaseTimeoutError(userId);
      }
    }
  }

  private observe(userId: string, lease: ObservedLease): void {
    this.observed.delete(userId);
    if (this.observed.size >= MAX_OBSERVED_LEASES) this.observed.delete(this.observed.keys().next().value!);
    this.observed.set(userId, lease);
  }
}
