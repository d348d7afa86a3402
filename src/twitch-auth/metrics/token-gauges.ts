import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { MaintenanceBacklog } from '../scheduling/maintenance.types.js';
import { TwitchAuthMaintenance } from '../scheduling/twitch-auth-maintenance.js';
import type { BatchObservationCallback, ObservableInstrument } from './meter.types.js';
import { TwitchAuthMetricName, TwitchAuthMetrics } from './twitch-auth.metrics.js';

/** A scrape within this long of the last count reuses it: counting reads the database. */
export const TOKEN_GAUGES_CACHE_MS = 15_000;

/**
 * The observable gauges: tokens whose users must authorize again
 * (`twitch_auth.tokens`, `status`) and the maintenance backlog
 * (`twitch_auth.maintenance.backlog`, `kind`: validation | refresh), read from
 * `TwitchAuthMaintenance.backlog()` only when a reader collects, at most once
 * per `TOKEN_GAUGES_CACHE_MS`. Counts stop at the backlog's `countLimit`.
 */
@Injectable()
export class TwitchAuthTokenGauges implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('TwitchAuth');
  private gauges: { tokens: ObservableInstrument; backlog: ObservableInstrument } | null = null;
  private counted: { at: number; backlog: Promise<MaintenanceBacklog> } | null = null;

  constructor(
    private readonly metrics: TwitchAuthMetrics,
    private readonly maintenance: TwitchAuthMaintenance,
  ) {}

  /** Registers the gauges' callback with the module's meter. */
  onModuleInit(): void {
    const meter = this.metrics.meter;
    if (!meter) return;
    this.gauges = {
      tokens: meter.createObservableGauge(TwitchAuthMetricName.Tokens, {
        description: 'Tokens by status (only reauth_required is counted: its users must authorize the app again).',
        unit: '{token}',
      }),
      backlog: meter.createObservableGauge(TwitchAuthMetricName.MaintenanceBacklog, {
        description: 'Valid tokens overdue for validation or refresh, across every instance sharing the storage.',
        unit: '{token}',
      }),
    };
    meter.addBatchObservableCallback(this.observe, [this.gauges.tokens, this.gauges.backlog]);
  }

  /** Unregisters the callback: a reader collecting after shutdown must not query closed storage. */
  onApplicationShutdown(): void {
    if (!this.gauges) return;
    this.metrics.meter?.removeBatchObservableCallback(this.observe, [this.gauges.tokens, this.gauges.backlog]);
    this.gauges = null;
  }

  private readonly observe: BatchObservationCallback = async (result) => {
    const gauges = this.gauges;
    if (!gauges) return;
    let backlog: MaintenanceBacklog;
    try {
      backlog = await this.backlog();
    } catch (error) {
      // Observing nothing shows as a gap in the series, which is what a failed count is.
      this.logger.warn(`Could not count tokens for the metrics: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (backlog.reauthRequired !== null) result.observe(gauges.tokens, backlog.reauthRequired, { status: 'reauth_required' });
    result.observe(gauges.backlog, backlog.overdueValidation, { kind: 'validation' });
    result.observe(gauges.backlog, backlog.overdueRefresh, { kind: 'refresh' });
  };

  private backlog(): Promise<MaintenanceBacklog> {
    const now = Date.now();
    if (this.counted && now - this.counted.at < TOKEN_GAUGES_CACHE_MS) return this.counted.backlog;
    const counted = { at: now, backlog: this.maintenance.backlog() };
    this.counted = counted;
    // A failed count is not reused: the next scrape tries again.
    counted.backlog.catch(() => {
      if (this.counted === counted) this.counted = null;
    });
    return counted.backlog;
  }
}
