import type { ResolvedFakeTwitchOptions } from './fake-twitch.store.js';
import type { FakeTwitchOptions } from './fake-twitch.types.js';

/** Every option with its default, checked: a FakeTwitch that cannot work refuses to start, naming the option. */
export function resolveOptions(options: FakeTwitchOptions): ResolvedFakeTwitchOptions {
  const resolved: ResolvedFakeTwitchOptions = {
    port: options.port ?? 0,
    clientId: options.clientId ?? 'fake-client-id',
    clientSecret: options.clientSecret === undefined ? 'fake-client-secret' : options.clientSecret,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 14400,
    appTokenTtlSeconds: options.appTokenTtlSeconds ?? 5000000,
    deviceCodeTtlSeconds: options.deviceCodeTtlSeconds ?? 1800,
    deviceIntervalSeconds: options.deviceIntervalSeconds ?? 5,
    singleUseRefreshTokens: options.singleUseRefreshTokens ?? true,
    latencyMs: options.latencyMs ?? 0,
    now: options.now ?? Date.now,
    redirectUris: options.redirectUris ? new Set(options.redirectUris) : null,
    helixRateLimit:
      options.helixRateLimit === false
        ? null
        : { points: options.helixRateLimit?.points ?? 800, windowMs: options.helixRateLimit?.windowMs ?? 60_000 },
    eventSubWelcomeTimeoutMs: options.eventSubWelcomeTimeoutMs ?? 10_000,
    eventSubReconnectGraceMs: options.eventSubReconnectGraceMs ?? 30_000,
    eventSubMinKeepaliveSeconds: options.eventSubMinKeepaliveSeconds ?? 10,
  };
  const counts = [
    'port',
    'accessTokenTtlSeconds',
    'appTokenTtlSeconds',
    'deviceCodeTtlSeconds',
    'deviceIntervalSeconds',
    'latencyMs',
    'eventSubWelcomeTimeoutMs',
    'eventSubReconnectGraceMs',
  ] as const;
  for (const name of counts) {
    const value = resolved[name];
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`FakeTwitch: option ${name} must be a number >= 0, got ${String(value)}`);
    }
  }
  const minKeepalive = resolved.eventSubMinKeepaliveSeconds;
  if (!(Number.isFinite(minKeepalive) && minKeepalive > 0 && minKeepalive <= 600)) {
    throw new Error(`FakeTwitch: option eventSubMinKeepaliveSeconds must be > 0 and <= 600, got ${String(minKeepalive)}`);
  }
  if (!resolved.clientId) throw new Error('FakeTwitch: option clientId must not be empty');
  const limit = resolved.helixRateLimit;
  if (limit && !(Number.isInteger(limit.points) && limit.points > 0 && Number.isInteger(limit.windowMs) && limit.windowMs >= 1000)) {
    throw new Error('FakeTwitch: helixRateLimit needs a whole number of points > 0 and a windowMs of at least 1000');
  }
  return resolved;
}
