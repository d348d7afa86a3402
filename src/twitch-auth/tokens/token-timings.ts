/** Retry and lease timings; tests may shorten them through the `TokenRefresher.timings` field. */
export interface RefresherTimings {
  /** Attempts of one Twitch request before a transient failure is reported. */
  attempts: number;
  /** First backoff between attempts; grows fourfold. */
  retryBaseMs: number;
  /** How long a lease is held before it lapses if its holder vanished. */
  leaseTtlMs: number;
  /** After taking over another instance's lease: how long to wait for a write its holder may still land. */
  takeoverGraceMs: number;
  /** How long a caller waits for another instance's lease. */
  leaseWaitMs: number;
  /** Backoff of a token's maintenance after a transient failure: base, doubling, capped. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** The longest a rate-limited attempt waits before the next one (Twitch's `Ratelimit-Reset`, capped). */
export const MAX_RATE_LIMIT_WAIT_MS = 5_000;
