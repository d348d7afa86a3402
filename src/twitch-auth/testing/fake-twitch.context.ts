import type { FakeDeviceStore } from './fake-twitch.devices.js';
import type { FakeTwitchStore, ResolvedFakeTwitchOptions } from './fake-twitch.store.js';
import type { FakeTwitchResponse } from './fake-twitch.types.js';
import { twitchErrorResponse } from './fake-twitch.server.js';

/**
 * What the built-in routes share. `store` and `devices` are read on every
 * request because `FakeTwitch.reset()` swaps them for empty ones.
 */
export interface FakeTwitchContext {
  readonly options: ResolvedFakeTwitchOptions;
  store: FakeTwitchStore;
  devices: FakeDeviceStore;
  /** User id of whoever is "logged in" on the browser pages. */
  browserUserId: string;
  /** Origin FakeTwitch listens on. */
  url(): string;
}

/** Twitch's answer when `client_id` is missing or unknown, or `null` when it is ours. */
export function checkClientId(context: FakeTwitchContext, clientId: string | undefined): FakeTwitchResponse | null {
  if (!clientId) return twitchErrorResponse(400, 'missing client id');
  return clientId === context.options.clientId ? null : twitchErrorResponse(400, 'invalid client');
}

/**
 * Twitch's answer when the client secret is wrong (403) or missing where a
 * confidential client needs it (400), or `null` when it is fine. Public
 * clients (no secret configured) never need one.
 */
export function checkClientSecret(context: FakeTwitchContext, secret: string | undefined, required: boolean): FakeTwitchResponse | null {
  const expected = context.options.clientSecret;
  if (expected === null) return null;
  if (!secret) return required ? twitchErrorResponse(400, 'missing client secret') : null;
  return secret === expected ? null : twitchErrorResponse(403, 'invalid client secret');
}

/** True when `redirectUri` is registered (any absolute http(s) URL when none were configured). */
export function isRegisteredRedirectUri(context: FakeTwitchContext, redirectUri: string | undefined): boolean {
  if (!redirectUri) return false;
  const registered = context.options.redirectUris;
  if (registered) return registered.has(redirectUri);
  try {
    const { protocol } = new URL(redirectUri);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Splits Twitch's space-separated scope list. */
export function parseScopes(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((scope) => scope.length > 0);
}
