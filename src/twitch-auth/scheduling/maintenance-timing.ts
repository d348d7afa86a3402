/**
 * The arithmetic of the maintenance timer, shared by the scheduler and by the
 * option checks that keep it inside Twitch's hourly validation rule.
 */

/** Ticks fire every `tickSeconds` plus or minus this share, so instances started together drift apart. */
export const TICK_JITTER = 0.1;

/** The longest wait between two timer ticks: one period plus the jitter. */
export function maxTickGapMs(tickMs: number): number {
  return tickMs * (1 + TICK_JITTER);
}

/**
 * How far ahead of its deadline a token is validated: two tick gaps. A token
 * becomes due at the first tick after `validateEvery - 2 gaps`; that tick
 * fires at most one gap later and, if it is skipped (the previous tick still
 * running), the next one fires one more gap later, still by the deadline.
 */
export function validationLookaheadMs(tickMs: number): number {
  return 2 * maxTickGapMs(tickMs);
}

/**
 * The largest `tickSeconds` for a `validateEverySeconds`: two tick gaps must
 * fit in the validation period, i.e. `2 × 1.1 × tickSeconds ≤ validateEverySeconds`.
 * With a longer period the look-ahead passes the last validation itself, so a
 * token is due at every tick, and two ticks apart (one skipped) are already
 * more than `validateEverySeconds` apart.
 */
export function maxTickSeconds(validateEverySeconds: number): number {
  return validateEverySeconds / (2 * (1 + TICK_JITTER));
}
