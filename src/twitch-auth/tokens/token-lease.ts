import type { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { TwitchRateLimitError } from '../twitch/twitch.errors.js';
import { describeError, isTransient } from './token-failures.js';
import type { TokenCache } from './token-cache.js';
import type { RefresherTimings } from './token-refresher.js';
import type { PlainToken, TokenStore } from './token-store.js';
import type { TokenWriter } from './token-writer.js';
import { TokenLeaseTimeoutError, TokenNotFoundError } from './token.errors.js';

/**
 * Who may work on a user's token right now: tasks of one user run one after
 * another in this process, and across processes the per-user lease in the
 * repository lets one instance work while the others wait for it.
 */
export class TokenLease {
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly writer: TokenWriter,
    private readonly instanceId: string,
    private readonly timings: Readonly<RefresherTimings>,
    private readonly logger: Logger,
  ) {}

  /** Stops retrying: a shutting-down process reports the failure instead of holding the lease for another attempt. */
  close(): void {
    this.closed = true;
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
   * holds it, unless told to skip. `signal` stops the wait with its reason.
   */
  async hold(
    userId: string,
    work: (row: PlainToken) => Promise<PlainToken>,
    skipIfLeased = false,
    signal?: AbortSignal,
  ): Promise<PlainToken> {
    const deadline = Date.now() + (skipIfLeased ? 0 : this.timings.leaseWaitMs);
    let delay = 20;
    for (;;) {
      signal?.throwIfAborted();
      const now = Date.now();
      const held = await this.store.acquireLease(userId, this.instanceId, now + this.timings.leaseTtlMs, now);
      if (held) {
        const row = this.writer.pendingRow(userId) ?? held;
        let result: PlainToken | undefined;
        try {
          result = await work(row);
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
      if (!(await this.store.repository.get(userId))) {
        this.cache.delete(userId);
        throw new TokenNotFoundError({ userId });
      }
      if (Date.now() >= deadline) throw new TokenLeaseTimeoutError(userId);
      await sleep(delay * (0.5 + Math.random()), undefined, { signal });
      delay = Math.min(delay * 2, 250);
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
        if (!isTransient(error) || attempt >= this.timings.attempts || this.closed || signal?.aborted) throw error;
        const backoff = this.timings.retryBaseMs * 4 ** (attempt - 1) * (0.75 + Math.random() / 2);
        const wait =
          error instanceof TwitchRateLimitError && error.retryAfterMs !== null
            ? Math.min(Math.max(error.retryAfterMs, backoff), 5_000)
            : backoff;
        await sleep(wait, undefined, { signal });
        const now = Date.now();
        const renewed = await this.store.repository.acquireLease(userId, this.instanceId, now + this.timings.leaseTtlMs, now);
        if (!renewed) throw new TokenLeaseTimeoutError(userId);
      }
    }
  }
}
