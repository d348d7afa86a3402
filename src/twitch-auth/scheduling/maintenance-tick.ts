import { performance } from 'node:perf_hooks';
import { hasTokenBatchOperations, type ClaimRequest } from '../storage/token-batches.interface.js';
import type { StoredToken } from '../storage/token-repository.interface.js';
import type { AppTokenProvider } from '../tokens/app-token.provider.js';
import { refreshDueAt } from '../tokens/token-cache.js';
import type { TokenRefresher } from '../tokens/token-refresher.js';
import type { TokenStore } from '../tokens/token-store.js';
import { ReauthorizationRequiredError, TokenLeaseTimeoutError, TokenNotFoundError } from '../tokens/token.errors.js';
import type { MaintenanceTickSummary } from './maintenance.types.js';

/** Due tokens read per query. */
export const MAINTENANCE_BATCH_SIZE = 500;

/**
 * Tokens claimed per statement: per worker, a few, so a batch ends well inside
 * the lease time even against a slow Twitch and instances take turns often
 * (an even split); at least this many, so the claim's cost is shared widely.
 */
const CLAIM_BATCHES_PER_WORKER = 4;
const CLAIM_BATCH_MIN = 64;

/** The timings one tick works with, in milliseconds. */
export interface TickSettings {
  refreshBeforeMs: number;
  validateEveryMs: number;
  /** How far ahead validation looks, so no token passes its deadline while waiting for a later tick. */
  validationLookaheadMs: number;
  concurrency: number;
  /** No new token is started after this long; the next tick carries on, refreshes first. */
  budgetMs: number;
}

/** What a tick needs from the module. */
export interface TickDependencies {
  store: TokenStore;
  refresher: TokenRefresher;
  appTokens: AppTokenProvider;
}

type Outcome = 'refreshed' | 'validated' | 'reauthRequired' | 'skipped';

/**
 * One pass over the due tokens: first those due for refresh (expiry is the
 * hard deadline), then those due for validation, then the app token. Tokens
 * are read in index-served batches and worked on with bounded concurrency;
 * every call goes through the refresher's lease, and a token another
 * instance holds is skipped rather than waited for. The budget is checked
 * before each token, so a long validation backlog (every token at startup)
 * never holds back the refreshes the next tick starts with.
 */
export class MaintenanceTick {
  private readonly summary: Omit<MaintenanceTickSummary, 'finishedAt' | 'durationMs'>;
  private readonly deadline: number;

  constructor(
    private readonly deps: TickDependencies,
    private readonly settings: TickSettings,
    private readonly stopped: () => boolean,
  ) {
    const startedAt = new Date();
    this.deadline = startedAt.getTime() + settings.budgetMs;
    this.summary = {
      startedAt,
      refreshed: 0,
      validated: 0,
      reauthRequired: 0,
      failed: 0,
      skipped: 0,
      appTokenValidated: false,
      budgetExhausted: false,
      firstFailure: null,
      error: null,
    };
  }

  /** Runs the tick; never throws (a failure of the tick itself lands in `error`). */
  async run(): Promise<MaintenanceTickSummary> {
    const { repository } = this.deps.store;
    const batches = hasTokenBatchOperations(repository) ? repository : null;
    try {
      const refreshSeen = new Set<string>();
      const refreshDone =
        (!batches ||
          (await this.claimAndWork(
            refreshSeen,
            (request) => batches.claimDueForRefresh(Date.now() + this.settings.refreshBeforeMs, request),
            (row, claimedAt) => this.refresh(row, claimedAt),
          ))) &&
        (await this.drain(
          refreshSeen,
          (limit) => repository.listDueForRefresh(Date.now() + this.settings.refreshBeforeMs, Date.now(), limit),
          (row) => this.refresh(row),
          batches !== null,
        ));
      const validationSeen = new Set<string>();
      const validationDone =
        refreshDone &&
        (!batches ||
          (await this.claimAndWork(
            validationSeen,
            (request) => batches.claimDueForValidation(this.validatedBefore(), request),
            (row, claimedAt) => this.validateClaimed(row, claimedAt),
          ))) &&
        (await this.drain(
          validationSeen,
          (limit) => repository.listDueForValidation(this.validatedBefore(), Date.now(), limit),
          (row) => this.validate(row),
          batches !== null,
        ));
      this.summary.budgetExhausted = !this.stopped() && (!refreshDone || !validationDone);
      await this.validateAppToken();
    } catch (error) {
      this.summary.error = describe(error);
    }
    const finishedAt = new Date();
    return { ...this.summary, finishedAt, durationMs: finishedAt.getTime() - this.summary.startedAt.getTime() };
  }

  private claimBatch(): number {
    return Math.max(CLAIM_BATCH_MIN, this.settings.concurrency * CLAIM_BATCHES_PER_WORKER);
  }

  private validatedBefore(): number {
    return Date.now() - this.settings.validateEveryMs + this.settings.validationLookaheadMs;
  }

  /**
   * Claims batches of due tokens (leased to this instance in the claiming
   * statement, so instances split the work) and works on them until a claim
   * comes back empty; false when it stopped at the budget or shutdown.
   * Claimed rows not written (skipped, failed, not reached) keep their lease
   * until the end, so the next claims pass them by, and are then released
   * in one statement.
   */
  private async claimAndWork(
    seen: Set<string>,
    claim: (request: ClaimRequest) => Promise<StoredToken[]>,
    work: (row: StoredToken, claimedAt: number) => Promise<Outcome>,
  ): Promise<boolean> {
    const { refresher } = this.deps;
    const unwritten: string[] = [];
    const worked: string[] = [];
    try {
      for (;;) {
        if (this.outOfTime()) return false;
        const now = Date.now();
        const rows = await claim({
          owner: refresher.instanceId,
          until: now + refresher.timings.leaseTtlMs,
          now,
          limit: this.claimBatch(),
        });
        if (rows.length === 0) return !this.stopped();
        const claimedAt = performance.now();
        // A row worked earlier in this tick can be due again at once (a look-ahead as long as the validation
        // period makes every row due at every tick): it keeps its new lease to the end and is not worked twice.
        const fresh = rows.filter((row) => !seen.has(row.userId));
        const ids = fresh.map((row) => row.userId);
        for (const row of rows) if (seen.has(row.userId)) unwritten.push(row.userId);
        if (fresh.length === 0) return !this.stopped();
        for (const userId of ids) seen.add(userId);
        refresher.noteClaimed(ids);
        const written = new Set<string>();
        const done = await this.forEachBounded(fresh, async (row) => {
          const outcome = await work(row, claimedAt);
          if (outcome === 'refreshed' || outcome === 'validated') written.add(row.userId);
          return outcome;
        });
        for (const userId of ids) (written.has(userId) ? worked : unwritten).push(userId);
        if (!done) return false;
      }
    } finally {
      await refresher.releaseClaims(worked, unwritten).catch((error: unknown) => this.recordFailure('releasing claimed leases', error));
    }
  }

  /**
   * Reads due tokens in batches until none is left; false when it stopped at
   * the budget or shutdown (possibly part-way through a batch). Tokens seen this tick but still due (leased
   * elsewhere, failed without backoff) are asked past, never retried. A row
   * another instance holds is tried only once its lease looks abandoned.
   * After claims (`afterClaims`), what is left due is held by instances at
   * work: one claim batch's worth is read, for leases left behind (a crashed
   * instance's), and the next tick reads on.
   */
  private async drain(
    seen: Set<string>,
    read: (limit: number) => Promise<StoredToken[]>,
    work: (row: StoredToken) => Promise<Outcome>,
    afterClaims = false,
  ): Promise<boolean> {
    for (;;) {
      if (this.outOfTime()) return false;
      // After claims, what is due is mostly other instances' batches at work: one batch's worth is read per tick.
      const limit = afterClaims ? this.claimBatch() : MAINTENANCE_BATCH_SIZE + seen.size;
      const rows = await read(limit);
      const fresh = rows.filter((row) => !seen.has(row.userId));
      if (fresh.length === 0) return true;
      for (const row of fresh) seen.add(row.userId);
      const worth = fresh.filter((row) => this.deps.refresher.mayTake(row));
      this.summary.skipped += fresh.length - worth.length;
      if (!(await this.forEachBounded(worth, work))) return false;
      if (rows.length < limit || afterClaims) return !this.stopped();
    }
  }

  /** Works on `rows` with bounded concurrency; false when the budget or shutdown left some untouched. */
  private async forEachBounded(rows: StoredToken[], work: (row: StoredToken) => Promise<Outcome>): Promise<boolean> {
    let next = 0;
    const worker = async () => {
      while (next < rows.length && !this.outOfTime()) {
        const row = rows[next++]!;
        try {
          this.summary[await work(row)] += 1;
        } catch (error) {
          this.recordFailure(`user ${row.userId}`, error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.concurrency, rows.length) }, worker));
    return next === rows.length;
  }

  /** `claimedAt`: the row came from a claim at that instant (`performance.now()`), its lease held. */
  private async refresh(row: StoredToken, claimedAt?: number): Promise<Outcome> {
    const now = Date.now();
    // The due-query reads `refreshBeforeExpirySeconds` ahead; short-lived tokens are not due before half their life.
    if (refreshDueAt(row, this.settings.refreshBeforeMs) > now) return 'skipped';
    const plain = this.deps.store.decode(row)!;
    const seen = plain.accessToken;
    return this.guard(async () => {
      const { refresher } = this.deps;
      const result =
        claimedAt === undefined
          ? await refresher.refresh(row.userId, seen, { skipIfLeased: true })
          : await refresher.refreshClaimed(plain, claimedAt);
      // Handed back unchanged when another instance refreshed it between the query and the lease.
      return result.accessToken !== seen && result.obtainedAt >= now ? 'refreshed' : 'skipped';
    });
  }

  private async validateClaimed(row: StoredToken, claimedAt: number): Promise<Outcome> {
    const now = Date.now();
    return this.guard(async () => {
      const result = await this.deps.refresher.validateClaimed(this.deps.store.decode(row)!, claimedAt);
      return (result.lastValidatedAt ?? 0) >= now ? 'validated' : 'skipped';
    });
  }

  private async validate(row: StoredToken): Promise<Outcome> {
    const now = Date.now();
    return this.guard(async () => {
      const result = await this.deps.refresher.validate(row.userId, { skipIfLeased: true, seenLastValidatedAt: row.lastValidatedAt });
      return (result.lastValidatedAt ?? 0) >= now ? 'validated' : 'skipped';
    });
  }

  /** Maps the refresher's expected outcomes; anything else is a failure of this token. */
  private async guard(call: () => Promise<Outcome>): Promise<Outcome> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ReauthorizationRequiredError) return 'reauthRequired';
      if (error instanceof TokenLeaseTimeoutError || error instanceof TokenNotFoundError) return 'skipped';
      throw error;
    }
  }

  /** App tokens live in each process's memory, so every instance validates its own on the same period. */
  private async validateAppToken(): Promise<void> {
    const { appTokens } = this.deps;
    if (this.stopped() || appTokens.peek() === null || (appTokens.lastValidatedAt ?? 0) > this.validatedBefore()) return;
    try {
      await appTokens.validate();
      this.summary.appTokenValidated = true;
    } catch (error) {
      this.recordFailure('app token', error);
    }
  }

  private recordFailure(subject: string, error: unknown): void {
    this.summary.failed += 1;
    this.summary.firstFailure ??= `${subject}: ${describe(error)}`;
  }

  private outOfTime(): boolean {
    return this.stopped() || Date.now() >= this.deadline;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
