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

/** Shutdown waits `timeoutMs + 1000` for in-flight work: that wait must fit in a Node timer too. */
export function requestTimeoutMs(value: number): number {
  const max = MAX_TIMER_MS - 1000;
  if (value > max) {
    throw new TwitchAuthConfigError(
      `twitch.timeoutMs must be at most ${max} so the shutdown wait (timeoutMs + 1000 ms) fits in a Node timer (at most 2^31-1 ms); got ${String(value)}.`,
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
