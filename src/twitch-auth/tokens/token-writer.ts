import type { Logger } from '@nestjs/common';
import { inspect } from 'node:util';
import type { StoredTokenChanges, UpdateCondition } from '../storage/token-repository.interface.js';
import { describeError } from './token-failures.js';
import type { TokenCache } from './token-cache.js';
import type { RefresherTimings } from './token-timings.js';
import type { PlainToken, TokenStore } from './token-store.js';
import type { TokenWriteGroup } from './token-write-group.js';

/** The stored row a refresh started from: its write lands only on that grant. */
export interface WriteBasis {
  /** The row's `version` when the work began. */
  version: number;
  /** The access token of the grant the work refreshed. */
  accessToken: string;
}

/** What became of a refreshed token the writer was given. */
export type WriteOutcome =
  /** Written; `row` is the stored row. */
  | { kind: 'stored'; row: PlainToken }
  /** A newer grant (re-authorization, or another instance's refresh) replaced the basis: ours was discarded, `row` is the winner. */
  | { kind: 'superseded'; row: PlainToken }
  /** The user's token was deleted meanwhile: ours was discarded. */
  | { kind: 'removed' }
  /** Not written yet (storage failing, or the row kept changing): kept in memory and retried. */
  | { kind: 'pending'; row: PlainToken };

interface PendingWrite {
  row: PlainToken;
  changes: StoredTokenChanges;
  basis: WriteBasis;
}

/** Attempts of one landing: each lost race against a bookkeeping write (intents, validation) costs one. */
const LANDING_ATTEMPTS = 5;

/**
 * Writes refreshed tokens. Twitch has already rotated the refresh token by
 * then, so the write is fenced and never loses it:
 * - it lands only while the stored grant is still the one that was refreshed
 *   (row version, or the same access token after a mere bookkeeping write), so
 *   a newer grant always wins and the discarded token is revoked at Twitch;
 * - when storage fails, the token is kept in memory, the lease kept, and the
 *   write retried with a growing delay until an update actually lands;
 * - the log says what really happened.
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
    private readonly timings: Readonly<Pick<RefresherTimings, 'takeoverGraceMs'>>,
    private readonly logger: Logger,
    /** Best-effort revocation of a refreshed token that lost to a newer grant. */
    private readonly revokeDiscarded: (accessToken: string) => Promise<void>,
    /** Group commit for the first attempt of each write. */
    private readonly group: TokenWriteGroup,
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

  /** How many refreshed tokens are only in memory. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Writes `changes` (which release the lease) on the grant `basis` names.
   * A write that cannot land now is kept in memory and retried.
   */
  async write(next: PlainToken, changes: StoredTokenChanges, basis: WriteBasis): Promise<WriteOutcome> {
    const write: PendingWrite = { row: next, changes, basis };
    let outcome: WriteOutcome;
    try {
      outcome = await this.land(next.userId, write);
    } catch (error) {
      this.keep(write);
      this.logger.error(
        `Storing the refreshed token of user ${next.userId} failed (${describeError(error)}); it is kept in memory and the write ${this.closed ? 'tried again until shutdown ends' : 'retried'}.`,
      );
      return { kind: 'pending', row: next };
    }
    if (outcome.kind === 'pending') {
      this.keep(write);
      this.logger.warn(
        `The row of user ${next.userId} kept changing while the refreshed token was written; it is kept in memory and written again shortly.`,
      );
    }
    return outcome;
  }

  /**
   * Tries to land every pending write until none is left or `deadline`
   * passes; then logs, truthfully, each token that could not be stored.
   */
  async close(deadline: number): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    let delay = 100;
    while (this.pending.size > 0) {
      await this.flush();
      if (this.pending.size === 0 || Date.now() + delay > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 2_000);
    }
    for (const userId of this.pending.keys()) {
      this.logger.error(
        `The refreshed token of user ${userId} could not be stored before shutdown and is lost: Twitch rotated its refresh token, so the user must authorize again.`,
      );
    }
  }

  /**
   * Writes on the basis grant. A failed condition is looked into: a row that
   * only changed its bookkeeping (intents, validation) or whose lease lapsed
   * is written again on its new version; a replaced grant wins over ours.
   */
  private async land(userId: string, write: PendingWrite): Promise<WriteOutcome> {
    let condition: UpdateCondition = { leaseOwner: this.instanceId, version: write.basis.version };
    let changes = write.changes;
    for (let attempt = 0; attempt < LANDING_ATTEMPTS; attempt++) {
      const written = attempt === 0 ? await this.landFirst(write, condition) : await this.store.update(userId, changes, condition);
      if (written) {
        this.cache.putIfCached(written);
        return { kind: 'stored', row: written };
      }
      const current = await this.store.get(userId);
      if (!current) {
        this.cache.delete(userId);
        this.logger.warn(`The token of user ${userId} was removed while it was refreshed; the refreshed token was discarded.`);
        this.discard(write.row.accessToken);
        return { kind: 'removed' };
      }
      if (current.accessToken !== write.basis.accessToken) {
        this.cache.putIfCached(current);
        this.logger.warn(
          `The token of user ${userId} was replaced by a newer grant while it was refreshed; the newer grant is kept and the refreshed token discarded.`,
        );
        // A refresh that kept the refresh token shares it with the winner: revoking would not be best effort then.
        if (current.refreshToken !== write.row.refreshToken) this.discard(write.row.accessToken);
        return { kind: 'superseded', row: current };
      }
      // Still the grant that was refreshed: only bookkeeping changed, or the lease lapsed (an outage). The new token is
      // its successor, so it is written on the row's version alone; a lease another instance holds now is left to it
      // (it waits after a takeover, then finds this token).
      const leasedElsewhere = current.leaseOwner !== null && current.leaseOwner !== this.instanceId;
      condition = { version: current.version };
      changes = leasedElsewhere ? withoutLeaseRelease(write.changes) : write.changes;
    }
    return { kind: 'pending', row: write.row };
  }

  /**
   * The first attempt, committed with other writes under way: on the basis
   * version, so the row it lands on is the basis row with `changes`, and
   * needs no reading back.
   */
  private async landFirst(write: PendingWrite, condition: UpdateCondition): Promise<PlainToken | null> {
    const { userId } = write.row;
    if (!(await this.group.write(userId, write.changes, condition))) return null;
    return { ...write.row, version: write.basis.version + 1 };
  }

  private discard(accessToken: string): void {
    this.revokeDiscarded(accessToken).catch((error: unknown) => {
      this.logger.warn(`Could not revoke a discarded refreshed token at Twitch (${describeError(error)}); it expires by itself.`);
    });
  }

  private keep(write: PendingWrite): void {
    this.pending.set(write.row.userId, write);
    // Only in memory now: readers of this user must find it, cached or not.
    this.cache.put(write.row);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush().then(() => {
        if (this.pending.size > 0) {
          // Well inside the grace a taker of the lapsed lease waits (see `TokenLease.take`).
          this.delayMs = Math.min(this.delayMs * 2, Math.max(1000, this.timings.takeoverGraceMs / 2));
          this.scheduleFlush();
        } else {
          this.delayMs = 1000;
        }
      });
    }, this.delayMs);
    this.timer.unref();
  }

  /** One attempt per pending write; each also renews the lease it needs. */
  private async flush(): Promise<void> {
    for (const [userId, write] of [...this.pending]) {
      let outcome: WriteOutcome;
      try {
        outcome = await this.land(userId, write);
      } catch (error) {
        this.logger.warn(`Storing the refreshed token of user ${userId} failed again (${describeError(error)}); will retry.`);
        continue;
      }
      if (outcome.kind === 'pending') continue;
      this.pending.delete(userId);
      if (outcome.kind === 'stored') this.logger.log(`The refreshed token of user ${userId} is now stored.`);
    }
  }
}

/** `changes` without releasing the lease: for a write that lands while another instance holds it. */
function withoutLeaseRelease(changes: StoredTokenChanges): StoredTokenChanges {
  const { leaseOwner: _release, ...rest } = changes;
  return rest;
}
