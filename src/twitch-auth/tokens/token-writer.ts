import type { Logger } from '@nestjs/common';
import { inspect } from 'node:util';
import type { StoredTokenChanges } from '../storage/token-repository.interface.js';
import { describeError } from './token-failures.js';
import type { TokenCache } from './token-cache.js';
import type { RefresherTimings } from './token-refresher.js';
import type { PlainToken, TokenStore } from './token-store.js';

interface PendingWrite {
  row: PlainToken;
  changes: StoredTokenChanges;
}

/**
 * Writes refreshed tokens under the refresher's lease. Twitch has already
 * rotated the refresh token by then, so a failed write must not lose it: the
 * row is kept in memory and the write retried with a growing delay until it
 * lands, or a last time at shutdown.
 */
export class TokenWriter {
  private readonly pending = new Map<string, PendingWrite>();
  private timer: NodeJS.Timeout | null = null;
  private delayMs = 1000;
  private closed = false;

  constructor(
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly instanceId: string,
    private readonly timings: Readonly<Pick<RefresherTimings, 'leaseTtlMs'>>,
    private readonly logger: Logger,
  ) {}

  /** Inspection counts the writes waiting for a retry; it never prints their tokens. */
  [inspect.custom](): string {
    return `TokenWriter { pendingWrites: ${this.pending.size} }`;
  }

  /** The refreshed token still waiting to be written, if a write failed. */
  pendingRow(userId: string): PlainToken | undefined {
    return this.pending.get(userId)?.row;
  }

  /** True while the user's refreshed token is only in memory; its lease must then be kept. */
  isPending(userId: string): boolean {
    return this.pending.has(userId);
  }

  /** Writes `changes` (which release the lease); keeps `next` in memory and retries when the write fails. */
  async write(next: PlainToken, changes: StoredTokenChanges): Promise<void> {
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
        `Storing the refreshed token of user ${next.userId} failed (${describeError(error)}); it is kept in memory and the write retried.`,
      );
      this.pending.set(next.userId, { row: next, changes });
      this.scheduleFlush();
    }
  }

  /** Stops retrying on a timer and tries a last time; tokens still unwritten are logged as lost. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size > 0) await this.flush();
    for (const userId of this.pending.keys()) {
      this.logger.error(`The refreshed token of user ${userId} could not be stored before shutdown; the user may need to authorize again.`);
    }
  }

  private scheduleFlush(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush().then(() => {
        if (this.pending.size > 0) {
          this.delayMs = Math.min(this.delayMs * 2, 30_000);
          this.scheduleFlush();
        } else {
          this.delayMs = 1000;
        }
      });
    }, this.delayMs);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    for (const [userId, write] of [...this.pending]) {
      try {
        const now = Date.now();
        await this.store.repository.acquireLease(userId, this.instanceId, now + this.timings.leaseTtlMs, now);
        await this.store.update(userId, write.changes, { leaseOwner: this.instanceId });
        this.pending.delete(userId);
        this.logger.log(`The refreshed token of user ${userId} is now stored.`);
      } catch (error) {
        this.logger.warn(`Storing the refreshed token of user ${userId} failed again (${describeError(error)}); will retry.`);
      }
    }
  }
}
