/** What one maintenance tick did in this instance. Counts are tokens, not requests. */
export interface MaintenanceTickSummary {
  startedAt: Date;
  finishedAt: Date;
  /** Compare with `tickSeconds`: a tick near it is close to overrunning. */
  durationMs: number;
  /** Refresh calls that ended with a new access token. */
  refreshed: number;
  /** Tokens Twitch confirmed through /oauth2/validate (or whose dead access token was replaced). */
  validated: number;
  /** Tokens found dead this tick: their users must authorize again. */
  reauthRequired: number;
  /** Tokens whose refresh or validation failed; transient failures were backed off per token. */
  failed: number;
  /** Tokens left alone because another instance held them or had just done the work. */
  skipped: number;
  /** Whether the app access token was validated this tick. */
  appTokenValidated: boolean;
  /** True when the tick stopped at its time budget with tokens still due; the next tick carries on. */
  budgetExhausted: boolean;
  /** The first per-token failure, for the status page (user id and error; never a secret). */
  firstFailure: string | null;
  /** Why the tick itself failed (e.g. storage unreachable), or null. */
  error: string | null;
}

/** A snapshot of this instance's scheduler, for status pages and health checks. */
export interface MaintenanceStatus {
  /** `maintenance.enabled`: whether ticks run on a timer (a manual `runNow()` works either way). */
  enabled: boolean;
  /** Whether a tick is in progress right now. */
  running: boolean;
  /** Identifies this process among instances sharing the storage (the lease owner name). */
  instanceId: string;
  /** Ticks completed since startup. */
  ticks: number;
  /** Ticks not started because the previous one was still running. */
  skippedTicks: number;
  /** When the current or last tick started. */
  lastTickStartedAt: Date | null;
  /** When the timer fires next; null when disabled or shut down. */
  nextTickAt: Date | null;
  /** The last completed tick. */
  lastTick: MaintenanceTickSummary | null;
  /** Error of the last tick that failed as a whole, until a tick succeeds. */
  lastTickError: string | null;
  /** Sums over every tick since startup: how this instance's share of the work adds up. */
  totals: MaintenanceTotals;
}

/** Per-token outcomes summed over ticks; the fields mean what they mean in `MaintenanceTickSummary`. */
export interface MaintenanceTotals {
  refreshed: number;
  validated: number;
  reauthRequired: number;
  failed: number;
  /** High while other instances do most of the work; that is expected with several instances. */
  skipped: number;
}

/**
 * Tokens needing attention across every instance sharing the storage. Counts
 * stop at `countLimit` so a health check stays cheap however large the backlog.
 */
export interface MaintenanceBacklog {
  /** Valid tokens whose last validation is older than `validateEverySeconds` (Twitch's hourly rule broken). */
  overdueValidation: number;
  /** Valid, refreshable tokens past their refresh point by more than two ticks (or expired). */
  overdueRefresh: number;
  /** Tokens whose users must authorize again; null when the storage cannot count them cheaply. */
  reauthRequired: number | null;
  /** The cap each count stops at. */
  countLimit: number;
  /** The instant the counts refer to. */
  countedAt: Date;
}
