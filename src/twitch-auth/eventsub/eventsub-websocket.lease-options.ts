import { TwitchAuthConfigError } from '../twitch-auth.errors.js';
import { timerSeconds } from '../twitch-auth.option-bounds.js';

/** The shortest user lease: it must outlive a renewal's round trip to the database by a wide margin. */
export const MIN_WEBSOCKET_LEASE_SECONDS = 2;

/** `eventSub.webSocket.leaseSeconds` and `renewSeconds` with their defaults filled in. */
export interface ResolvedWebSocketLeaseOptions {
  leaseSeconds: number;
  renewSeconds: number;
}

/**
 * Checks the user lease timing: a lease lapses `leaseSeconds` after its last
 * renewal (how long a dead instance's users stay without sockets, plus one
 * round), renewed every `renewSeconds` (also how soon another instance acts
 * on subscriptions stored elsewhere, and takes over after a graceful stop).
 */
export function resolveWebSocketLeaseOptions(
  webSocket: { leaseSeconds?: number; renewSeconds?: number } | undefined,
): ResolvedWebSocketLeaseOptions {
  const leaseSeconds = seconds(webSocket?.leaseSeconds ?? 30, 'eventSub.webSocket.leaseSeconds');
  if (leaseSeconds < MIN_WEBSOCKET_LEASE_SECONDS) {
    throw new TwitchAuthConfigError(
      `eventSub.webSocket.leaseSeconds must be at least ${MIN_WEBSOCKET_LEASE_SECONDS}; got ${leaseSeconds}.`,
    );
  }
  const renewSeconds = seconds(webSocket?.renewSeconds ?? Math.min(10, leaseSeconds / 3), 'eventSub.webSocket.renewSeconds');
  if (renewSeconds * 2 >= leaseSeconds) {
    throw new TwitchAuthConfigError(
      `eventSub.webSocket.renewSeconds (${renewSeconds}) must be less than half of leaseSeconds (${leaseSeconds}), so one late renewal does not hand a user's sockets to another instance: lower renewSeconds or raise leaseSeconds.`,
    );
  }
  return { leaseSeconds, renewSeconds };
}

function seconds(value: number, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TwitchAuthConfigError(`${option} must be a positive number of seconds; got ${String(value)}.`);
  }
  return timerSeconds(value, option);
}
