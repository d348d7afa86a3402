import { maxTickSeconds } from './scheduling/maintenance-timing.js';
import { TwitchAuthConfigError } from './twitch-auth.errors.js';

/*
 * Upper bounds of the duration options: past them a timer cannot honour the
 * value (Node fires a timer longer than 2^31-1 ms after 1 ms) or Twitch's
 * hourly validation rule is broken.
 */

/** The longest delay a Node timer holds (2^31-1 ms); a longer one fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Refuses a duration in seconds that no Node timer could wait for. */
export function timerSeconds(value: number, option: string): number {
  const max = Math.floor(MAX_TIMER_MS / 1000);
  if (value > max) {
    throw new TwitchAuthConfigError(
      `${option} must be at most ${max} (seconds; a Node timer waits at most 2^31-1 ms, about 24.8 days); got ${String(value)}.`,
    );
  }
  return value;
}

/** Refuses a duration in milliseconds that no Node timer could wait for. */
export function timerMs(value: number, option: string): number {
  if (value > MAX_TIMER_MS) {
    throw new TwitchAuthConfigError(
      `${option} must be at most ${MAX_TIMER_MS} (milliseconds; a Node timer waits at most 2^31-1 ms); got ${String(value)}.`,
    );
  }
  return value;
}

/**
 * The longest `twitch.timeoutMs`. A request is retried up to 3 times, a lease
 * lasts 4 × timeoutMs, and shutdown waits for the worst case of one refresh
 * (about 4 × timeoutMs): past two minutes per request, a stalled Twitch would
 * hold leases and deploys for many minutes.
 */
export const MAX_REQUEST_TIMEOUT_MS = 120_000;

/** Refuses a request timeout whose retries, leases and shutdown wait would run for many minutes. */
export function requestTimeoutMs(value: number): number {
  if (value > MAX_REQUEST_TIMEOUT_MS) {
    throw new TwitchAuthConfigError(
      `twitch.timeoutMs must be at most ${MAX_REQUEST_TIMEOUT_MS} (2 minutes): leases last 4 × timeoutMs and shutdown waits for about as long for a refresh in flight; got ${String(value)}.`,
    );
  }
  return value;
}

/**
 * Refuses a tick period so long that a token could pass its validation
 * deadline: see `maxTickSeconds`. The bound shown is rounded down, so any
 * value up to it is accepted.
 */
export function checkTickSeconds(tickSeconds: number, validateEverySeconds: number): void {
  const max = maxTickSeconds(validateEverySeconds);
  if (tickSeconds > max) {
    throw new TwitchAuthConfigError(
      `maintenance.tickSeconds must be at most ${Math.floor(max * 100) / 100} (validateEverySeconds / 2.2) so every token is still validated within validateEverySeconds (${validateEverySeconds}) when a tick is skipped; got ${String(tickSeconds)}.`,
    );
  }
}
