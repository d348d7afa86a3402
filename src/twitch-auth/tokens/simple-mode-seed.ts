import type { Logger } from '@nestjs/common';
import { inspect } from 'node:util';
import { SIMPLE_MODE_INTENT } from '../twitch-auth.constants.js';
import { InvalidAccessTokenError } from '../twitch/twitch.errors.js';
import { describeError, isTransient } from './token-failures.js';
import type { PlainToken } from './token-store.js';
import { SimpleModeTokenPendingError, SimpleModeTokenRejectedError } from './token.errors.js';
import type { StoreUserToken, ValidateUserToken } from './user-token-validation.js';

/** What seeding the configured token uses: narrow functions, never the service that owns the seed. */
export interface SimpleModeSeedDeps {
  /** The stored token of a user, decrypted, or null. */
  getStored(userId: string): Promise<PlainToken | null>;
  /** The stored token serving an intent, decrypted, or null. */
  findStoredByIntent(intent: string): Promise<PlainToken | null>;
  validateToken: ValidateUserToken;
  storeToken: StoreUserToken;
  /**
   * Asks Twitch, through the single-flight refresher, whether the stored
   * token of `userId` still works (refreshing an expired one); false when its
   * grant is gone. Transient failures throw.
   */
  storedTokenWorks(userId: string): Promise<boolean>;
  addIntents(userId: string, intents: string[]): Promise<unknown>;
  logger: Pick<Logger, 'log' | 'warn' | 'error'>;
}

/** The `token` option. */
export interface ConfiguredToken {
  accessToken: string;
  refreshToken: string | null;
}

/** Backoff of background retries after transient failures. */
export interface SimpleModeRetryTimings {
  /** Delay before the first retry; doubled per further failure. */
  firstRetryMs: number;
  /** No retry waits longer than this. */
  maxRetryMs: number;
}

const DEFAULT_TIMINGS: SimpleModeRetryTimings = { firstRetryMs: 1_000, maxRetryMs: 5 * 60_000 };

/**
 * Stores the `token` option ("simple" mode). The first attempt runs at boot;
 * a transient failure (Twitch down, timeout) is retried in the background
 * with jittered, capped backoff, and a read that finds no token while the
 * seed has not landed waits for one attempt (shared by concurrent readers)
 * instead of failing. A permanent failure is logged once and never retried:
 * only a new configuration can cure it. Never throws into the application.
 */
export class SimpleModeSeed {
  private state: 'pending' | 'seeded' | 'rejected' = 'pending';
  private failure: unknown = null;
  private failures = 0;
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly deps: SimpleModeSeedDeps,
    private readonly configured: ConfiguredToken,
    private readonly timings: SimpleModeRetryTimings = DEFAULT_TIMINGS,
    private readonly random: () => number = Math.random,
  ) {}

  /** Inspection shows the seed's state, never the configured token. */
  [inspect.custom](): string {
    return `SimpleModeSeed { state: ${this.state}, failures: ${this.failures} }`;
  }

  /** True while the seed has neither landed nor been given up (nor stopped). */
  get pending(): boolean {
    return this.state === 'pending' && !this.stopped;
  }

  /** The first attempt; resolves when it ended, whatever the outcome. */
  start(): Promise<void> {
    return this.attempt();
  }

  /**
   * Called by reads about to report "no token": waits for one seed attempt
   * unless the seed already landed or was given up. Resolves to the error to
   * report for the simple-mode intent when the seed is still missing, else null.
   */
  async beforeNotFound(subject: { userId?: string; intent?: string }): Promise<Error | null> {
    if (this.pending) await this.attempt();
    if (subject.intent !== SIMPLE_MODE_INTENT) return null;
    if (this.state === 'pending') return new SimpleModeTokenPendingError({ cause: this.failure });
    if (this.state === 'rejected') return new SimpleModeTokenRejectedError(describeError(this.failure), { cause: this.failure });
    return null;
  }

  /** Cancels any scheduled retry; an attempt in flight finishes but schedules nothing. */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  private attempt(): Promise<void> {
    if (this.running) return this.running;
    if (this.state !== 'pending' || this.stopped) return Promise.resolve();
    this.clearTimer();
    this.running = this.runOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async runOnce(): Promise<void> {
    const { logger } = this.deps;
    try {
      const outcome = await this.seedOnce();
      this.state = 'seeded';
      this.failure = null;
      logger.log(`Simple mode: ${outcome}`);
    } catch (error) {
      this.failure = error;
      if (isTransient(error)) {
        this.failures += 1;
        const delay = this.scheduleRetry();
        logger.warn(`Simple mode: the configured token could not be checked now (${describeError(error)}); retrying in ${delay} ms.`);
      } else {
        this.state = 'rejected';
        logger.error(
          `Simple mode: the configured token cannot be used (${describeError(error)}). It will not be retried: set a new token option and restart.`,
        );
      }
    }
  }

  /**
   * One decision. The rule: a configured token that validates wins over a
   * stored one that does not; when both work the stored one is kept, because
   * it was obtained or refreshed since the configuration was written, and
   * storing the configured one would bring back a refresh token that a
   * refresh may already have spent (Twitch revokes the grant on reuse). The
   * configured refresh token is never used while a stored token works.
   */
  private async seedOnce(): Promise<string> {
    const { deps, configured } = this;
    // No refresh token here: only a configured access token that works on its own can compete with a stored one.
    const live = await deps.validateToken(configured.accessToken, null).catch((error: unknown) => {
      if (error instanceof InvalidAccessTokenError) return null;
      throw error;
    });
    const stored = live ? await deps.getStored(live.userId) : await deps.findStoredByIntent(SIMPLE_MODE_INTENT);
    if (stored && stored.status === 'valid') {
      const contest = live !== null && stored.accessToken !== live.accessToken;
      if (!contest || (await deps.storedTokenWorks(stored.userId))) {
        if (!stored.intents.includes(SIMPLE_MODE_INTENT)) await deps.addIntents(stored.userId, [SIMPLE_MODE_INTENT]);
        return `using the stored token of user ${stored.userId}; it works, so the configured one is not needed.`;
      }
    }
    const token = live
      ? { ...live, refreshToken: configured.refreshToken }
      : await deps.validateToken(configured.accessToken, configured.refreshToken);
    const info = await deps.storeToken(token, [SIMPLE_MODE_INTENT]);
    return `stored the configured token of user ${info.userId} (${info.login ?? 'unknown login'}).`;
  }

  private scheduleRetry(): number {
    const exponential = this.timings.firstRetryMs * 2 ** Math.min(this.failures - 1, 30);
    // Jitter between half and all of the capped delay, so instances restarted together do not retry together.
    const delay = Math.round(Math.min(this.timings.maxRetryMs, exponential) * (0.5 + this.random() / 2));
    if (this.stopped || this.timer) return delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.attempt();
    }, delay);
    this.timer.unref();
    return delay;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
