import type { FakeTwitchContext } from './fake-twitch.context.js';
import type { FakeTwitchStore } from './fake-twitch.store.js';
import type { FakeTwitchResponse, FakeTwitchRoute } from './fake-twitch.types.js';

/** One token's window: points spent since it started. */
interface Window {
  startedAt: number;
  spent: number;
}

/** Buckets live beside the token store, so `FakeTwitch.reset()` empties them too. */
const bucketStores = new WeakMap<FakeTwitchStore, Map<string, Window>>();

/**
 * Wraps a Helix route in Twitch's per-token rate limit: each valid token
 * (the app's, or each user's) spends one point per request from a bucket of
 * `helixRateLimit.points` per `helixRateLimit.windowMs`; every answer carries
 * `Ratelimit-Limit`, `Ratelimit-Remaining` and `Ratelimit-Reset` (Unix
 * seconds), and a request over the limit gets a real 429 without reaching the
 * route. Windows are fixed and aligned on multiples of `windowMs` since the
 * epoch (Twitch refills gradually; a client that waits for the reset is
 * right for both). Requests without a valid token go to the route, which
 * answers 401. Routes of other endpoints are returned as they are.
 */
export function withHelixRateLimit(context: FakeTwitchContext, route: FakeTwitchRoute): FakeTwitchRoute {
  if (route.endpoint !== 'helix') return route;
  return {
    ...route,
    handle: async (request) => {
      const limit = context.options.helixRateLimit;
      if (!limit) return route.handle(request);
      const token = bearerToken(request.headers);
      const info = token ? context.store.tokenInfo(token) : null;
      if (!token || !info || !context.store.isValid(token)) return route.handle(request);
      const key = info.kind === 'app' ? `app:${info.clientId}` : `user:${info.clientId}:${info.userId}`;
      const now = context.options.now();
      const window = currentWindow(context.store, key, now, limit.windowMs);
      const headers = (remaining: number): Record<string, string> => ({
        'ratelimit-limit': String(limit.points),
        'ratelimit-remaining': String(remaining),
        'ratelimit-reset': String(Math.ceil((window.startedAt + limit.windowMs) / 1000)),
      });
      if (window.spent >= limit.points) {
        return { status: 429, headers: headers(0), body: { error: 'Too Many Requests', status: 429, message: 'Too Many Requests' } };
      }
      window.spent++;
      const response: FakeTwitchResponse = await route.handle(request);
      return { ...response, headers: { ...headers(limit.points - window.spent), ...response.headers } };
    },
  };
}

/** The access token of an `Authorization: Bearer …` header, if any. */
export function bearerToken(headers: Record<string, string>): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match ? match[1] : null;
}

function currentWindow(store: FakeTwitchStore, key: string, now: number, windowMs: number): Window {
  let windows = bucketStores.get(store);
  if (!windows) {
    windows = new Map();
    bucketStores.set(store, windows);
  }
  const startedAt = Math.floor(now / windowMs) * windowMs;
  let window = windows.get(key);
  if (!window || window.startedAt !== startedAt) {
    window = { startedAt, spent: 0 };
    windows.set(key, window);
  }
  return window;
}
