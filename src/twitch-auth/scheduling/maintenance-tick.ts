import type { StoredToken } from '../storage/token-repository.interface.js';
import type { AppTokenProvider } from '../tokens/app-token.provider.js';
import { refreshDueAt } from '../tokens/token-cache.js';
import type { TokenRefresher } from '../tokens/token-refresher.js';
import type { TokenStore } from '../tokens/token-store.js';
import { ReauthorizationRequiredError, TokenLeaseTimeoutError, TokenNotFoundError } from '../tokens/token.errors.js';
import type { MaintenanceTickSummary } from './maintenance.types.js';

/** Due tokens read per query. */
export const MAINTENANCE_BATCH_SIZE = 500;

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
    try {
      const refreshDone = await this.drain(
        (limit) => this.deps.store.repository.listDueForRefresh(Date.now() + this.settings.refreshBeforeMs, Date.now(), limit),
        (row) => this.refresh(row),
      );
      const validationDone =
        refreshDone &&
        (await this.drain(
          (limit) => this.deps.store.repository.listDueForValidation(this.validatedBefore(), Date.now(), limit),
          (row) => this.validate(row),
        ));
      this.summary.budgetExhausted = !this.stopped() && (!refreshDone || !validationDone);
      await this.validateAppToken();
    } catch (error) {
      this.summary.error = describe(error);
    }
    const finishedAt = new Date();
    return { ...this.summary, finishedAt, durationMs: finishedAt.getTime() - this.summary.startedAt.getTime() };
  }

  private validatedBefore(): number {
    return Date.now() - this.settings.validateEveryMs + this.settings.validationLookaheadMs;
  }

  /**
   * Reads due tokens in batches until none is left; false when it stopped at
   * the budget or shutdown (possibly part-way through a batch). Tokens seen this tick but still due (leased
   * elsewhere, failed without backoff) are asked past, never retried.
   */
  private async drain(read: (limit: number) => Promise<StoredToken[]>, work: (row: StoredToken) => Promise<Outcome>): Promise<boolean> {
    const seen = new Set<string>();
    for (;;) {
      if (this.outOfTime()) return false;
      const limit = MAINTENANCE_BATCH_SIZE + seen.size;
      const rows = await read(limit);
      const fresh = rows.filter((row) => !seen.has(row.userId));
      if (fresh.length === 0) return true;
      for (const row of fresh) seen.add(row.userId);
      if (!(await this.forEachBounded(fresh, work))) return false;
      if (rows.length < limit) return !this.stopped();
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

  private async refresh(row: StoredToken): Promise<Outcome> {
    const now = Date.now();
    // The due-query reads `refreshBeforeExpirySeconds` ahead; short-lived tokens are not due before half their life.
    if (refreshDueAt(row, this.settings.refreshBeforeMs) > now) return 'skipped';
    const seen = this.deps.store.decode(row)!.accessToken;
    return this.guard(async () => {
      const result = await this.deps.refresher.refresh(row.userId, seen, { skipIfLeased: true });
      // Handed back unchanged when another instance refreshed it between the query and the lease.
      return result.accessToken !== seen && result.obtainedAt >= now ? 'refreshed' : 'skipped';
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
