import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { AppTokenProvider } from '../tokens/app-token.provider.js';
import { TokenRefresher } from '../tokens/token-refresher.js';
import { TokenStore } from '../tokens/token-store.js';
import { MaintenanceTick, type TickSettings } from './maintenance-tick.js';
import type { MaintenanceBacklog, MaintenanceStatus, MaintenanceTickSummary, MaintenanceTotals } from './maintenance.types.js';
import { TokenBacklogReader } from './token-backlog.js';
import { TICK_JITTER, maxTickGapMs, validationLookaheadMs } from './maintenance-timing.js';

/** Name of the tick timer in `SchedulerRegistry`, when the app imported `ScheduleModule.forRoot()`. */
export const MAINTENANCE_TIMER_NAME = 'twitch-auth-maintenance';

/** Health counts stop here, so a check costs the same with a thousand overdue tokens as with a million. */
export const BACKLOG_COUNT_LIMIT = 1000;

/**
 * The share of a tick period a tick may start new tokens in. The timer fires
 * again after at least 90 % of the period; stopping at 75 % leaves the tokens
 * in flight time to finish, so the next tick runs (refreshes first) instead of
 * being skipped behind a long validation pass.
 */
const BUDGET_SHARE = 0.75;

/**
 * Validates and refreshes every stored token on a timer, as Twitch requires
 * (validation at startup and at least hourly), in every instance at once
 * without two of them working on one token. Inject it for `status()` on a
 * status page, `backlog()` for monitoring, or `runNow()` to drive ticks from
 * your own scheduler with `maintenance.enabled: false`.
 */
@Injectable()
export class TwitchAuthMaintenance implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('TwitchAuth');
  private readonly settings: TickSettings;
  private readonly tickMs: number;
  /** The longest wait between two timer ticks. */
  private readonly maxTickGapMs: number;
  private timer: NodeJS.Timeout | null = null;
  private nextTickAt: number | null = null;
  private current: Promise<MaintenanceTickSummary> | null = null;
  private stopped = false;
  private readonly bootedAt = Date.now();
  private ticks = 0;
  private skippedTicks = 0;
  private lastTickStartedAt: Date | null = null;
  private lastTick: MaintenanceTickSummary | null = null;
  private lastTickError: string | null = null;
  private readonly totals: MaintenanceTotals = { refreshed: 0, validated: 0, reauthRequired: 0, failed: 0, skipped: 0 };

  /**
   * Built by Nest's injector from the module's providers: inject this class
   * instead of constructing it.
   * @internal
   */
  constructor(
    private readonly store: TokenStore,
    private readonly refresher: TokenRefresher,
    private readonly appTokens: AppTokenProvider,
    private readonly backlogReader: TokenBacklogReader,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
    @Optional() private readonly schedulerRegistry?: SchedulerRegistry,
  ) {
    const m = options.maintenance;
    this.tickMs = m.tickSeconds * 1000;
    this.maxTickGapMs = maxTickGapMs(this.tickMs);
    this.settings = {
      refreshBeforeMs: m.refreshBeforeExpirySeconds * 1000,
      validateEveryMs: m.validateEverySeconds * 1000,
      // Two gaps: a token still meets its deadline when one tick is skipped (overrun) or slow.
      validationLookaheadMs: validationLookaheadMs(this.tickMs),
      concurrency: m.concurrency,
      budgetMs: this.tickMs * BUDGET_SHARE,
    };
  }

  /** Starts the timer; the first tick comes within a second so startup validation is prompt but never delays boot. */
  onApplicationBootstrap(): void {
    if (!this.options.maintenance.enabled || this.stopped) return;
    this.schedule(Math.random() * Math.min(1000, this.tickMs));
  }

  /**
   * Stops the timer; a running tick starts no new token. Its tokens in
   * flight are refreshes and validations the refresher waits for before
   * storage closes; this waits for the tick itself (its last query and its
   * summary), bounded the same way.
   */
  async onModuleDestroy(): Promise<void> {
    this.stop();
    const running = this.current;
    if (!running) return;
    const boundMs = this.refresher.shutdownBoundMs();
    this.logger.log(
      `Waiting for the running maintenance tick and its refreshes in flight before storage closes (at most ${Math.ceil(boundMs / 1000)} s).`,
    );
    let timeout: NodeJS.Timeout | undefined;
    const patience = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, boundMs);
    });
    await Promise.race([running, patience]);
    clearTimeout(timeout);
  }

  /** Clears the timer if `onModuleDestroy` did not run. */
  onApplicationShutdown(): void {
    this.stop();
  }

  /**
   * Runs a tick now and resolves with its summary. While a tick is running,
   * returns that tick instead of starting a second one.
   */
  runNow(): Promise<MaintenanceTickSummary> {
    if (this.current) return this.current;
    this.lastTickStartedAt = new Date();
    const tick = new MaintenanceTick(
      { store: this.store, refresher: this.refresher, appTokens: this.appTokens },
      this.settings,
      () => this.stopped,
    );
    this.current = tick.run().then((summary) => this.finish(summary));
    return this.current;
  }

  /** This instance's scheduler state, without touching storage. */
  status(): MaintenanceStatus {
    return {
      enabled: this.options.maintenance.enabled,
      running: this.current !== null,
      instanceId: this.refresher.instanceId,
      ticks: this.ticks,
      skippedTicks: this.skippedTicks,
      lastTickStartedAt: this.lastTickStartedAt,
      nextTickAt: this.nextTickAt === null ? null : new Date(this.nextTickAt),
      lastTick: this.lastTick,
      lastTickError: this.lastTickError,
      totals: { ...this.totals },
    };
  }

  /**
   * Overdue and dead tokens across all instances. A token is overdue for
   * validation once `validateEverySeconds` passed since Twitch last confirmed
   * it (never-validated ones get two ticks' grace), and overdue for refresh
   * once it is within two ticks of expiry past its refresh point.
   */
  async backlog(): Promise<MaintenanceBacklog> {
    const now = Date.now();
    const graceMs = 2 * this.maxTickGapMs;
    const counts = await this.backlogReader.count({
      validatedBefore: now - this.settings.validateEveryMs,
      neverValidatedObtainedBefore: now - graceMs,
      expiringBefore: now + Math.max(0, this.settings.refreshBeforeMs - graceMs),
      limit: BACKLOG_COUNT_LIMIT,
    });
    return { ...counts, countLimit: BACKLOG_COUNT_LIMIT, countedAt: new Date(now) };
  }

  /** True when the timer should have started a tick by now but has not (or is not running at all). */
  isStalled(now: number = Date.now()): boolean {
    if (!this.options.maintenance.enabled || this.current) return false;
    const last = this.lastTickStartedAt?.getTime() ?? this.bootedAt;
    return now - last > 3 * this.maxTickGapMs + 1000;
  }

  private finish(summary: MaintenanceTickSummary): MaintenanceTickSummary {
    this.current = null;
    this.ticks += 1;
    this.lastTick = summary;
    this.lastTickError = summary.error;
    for (const outcome of Object.keys(this.totals) as (keyof MaintenanceTotals)[]) this.totals[outcome] += summary[outcome];
    if (summary.error) {
      this.logger.error(`Token maintenance tick failed: ${summary.error}`);
    } else if (summary.failed > 0) {
      this.logger.warn(`Token maintenance: ${summary.failed} token(s) failed and will be retried (first: ${summary.firstFailure}).`);
    }
    if (summary.budgetExhausted) {
      this.logger.warn(
        `Token maintenance: a tick used up its ${this.settings.budgetMs} ms budget before every due token was handled; the next tick carries on.`,
      );
    }
    return summary;
  }

  /** Fixed rate: the next tick is planned when this one fires, so a slow tick makes the next one skip, not drift. */
  private onTimer(): void {
    this.timer = null;
    this.schedule(this.tickMs * (1 - TICK_JITTER + Math.random() * 2 * TICK_JITTER));
    if (this.current) {
      this.skippedTicks += 1;
      const runningFor = Date.now() - (this.lastTickStartedAt?.getTime() ?? Date.now());
      this.logger.warn(`Token maintenance tick skipped: the previous tick is still running (for ${runningFor} ms).`);
      return;
    }
    void this.runNow();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => this.onTimer(), delayMs);
    this.timer = timer;
    this.nextTickAt = Date.now() + delayMs;
    const registry = this.schedulerRegistry;
    if (registry) {
      // The entry being replaced is the timer that just fired; deleting it clears nothing live.
      if (registry.doesExist('timeout', MAINTENANCE_TIMER_NAME)) registry.deleteTimeout(MAINTENANCE_TIMER_NAME);
      registry.addTimeout(MAINTENANCE_TIMER_NAME, timer);
    }
  }

  private stop(): void {
    this.stopped = true;
    this.nextTickAt = null;
    if (!this.timer) return;
    clearTimeout(this.timer);
    const registry = this.schedulerRegistry;
    if (registry?.doesExist('timeout', MAINTENANCE_TIMER_NAME) && registry.getTimeout(MAINTENANCE_TIMER_NAME) === this.timer) {
      registry.deleteTimeout(MAINTENANCE_TIMER_NAME);
    }
    this.timer = null;
  }
}
