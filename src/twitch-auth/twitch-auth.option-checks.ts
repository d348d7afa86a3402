import { TwitchAuthConfigError } from './twitch-auth.errors.js';
import type { EventSubMount } from './twitch-auth.options.js';

const SCOPE_PATTERN = /^[a-z0-9_]+(:[a-z0-9_]+)*$/;

/** Throws unless every scope has Twitch's syntax (`chat:read`, `moderator:manage:banned_users`...). */
export function checkScopes(scopes: unknown, option: string): asserts scopes is string[] {
  if (!Array.isArray(scopes)) throw new TwitchAuthConfigError(`${option} must be an array of scope strings.`);
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !SCOPE_PATTERN.test(scope)) {
      throw new TwitchAuthConfigError(`${option} contains "${String(scope)}", which is not a Twitch scope (expected e.g. "chat:read").`);
    }
  }
}

/** The option as given, required to be non-empty text; the error says what it is (`what`). */
export function requireText(value: unknown, option: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TwitchAuthConfigError(`${option} is required: ${what}.`);
  }
  return value;
}

/** The option as given, or null when absent; present means non-empty text. */
export function optionalText(value: unknown, option: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.trim() === '') throw new TwitchAuthConfigError(`${option} must be a non-empty string when given.`);
  return value;
}

/** Throws unless the option is an absolute http(s) URL. */
export function requireHttpUrl(value: string, option: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TwitchAuthConfigError(`${option} must be an absolute http(s) URL; got "${value}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TwitchAuthConfigError(`${option} must be an http(s) URL; got "${value}".`);
  }
}

/** Checks an `EventSubMount` value; absent means `'controller'`. */
export function eventSubMount(value: EventSubMount | undefined, option: string): EventSubMount {
  if (value === undefined || value === 'controller' || value === 'direct') return value ?? 'controller';
  throw new TwitchAuthConfigError(`${option} must be 'controller' or 'direct', got ${JSON.stringify(value)}.`);
}

/** Checks a route path (leading `/`) and drops trailing slashes. */
export function normalisePath(value: string, option: string): string {
  if (typeof value !== 'string' || !value.startsWith('/'))
    throw new TwitchAuthConfigError(`${option} must be a path starting with "/"; got "${String(value)}".`);
  return value.length > 1 ? value.replace(/\/+$/, '') : value;
}

/** The option, required to be a positive finite number. */
export function positive(value: number, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new TwitchAuthConfigError(`${option} must be a positive number; got ${String(value)}.`);
  return value;
}

/** The option, required to be zero or a positive finite number. */
export function nonNegative(value: number, option: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new TwitchAuthConfigError(`${option} must be zero or a positive number; got ${String(value)}.`);
  return value;
}

/** The option, required to be a positive whole number. */
export function positiveInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new TwitchAuthConfigError(`${option} must be a positive integer; got ${String(value)}.`);
  return value;
}

/** Throws unless the option is an absolute ws(s) URL. */
export function requireWebSocketUrl(value: string, option: string): void {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== 'ws:' && url.protocol !== 'wss:')) {
    throw new TwitchAuthConfigError(
      `${option} must be an absolute ws(s) URL such as wss://eventsub.wss.twitch.tv/ws; got "${String(value)}".`,
    );
  }
}

/** Throws unless the secret meets Twitch's rule for EventSub secrets. */
export function checkEventSubSecret(value: unknown, option: string): void {
  if (typeof value !== 'string' || value.length < 10 || value.length > 100 || !/^[\x20-\x7e]+$/.test(value)) {
    throw new TwitchAuthConfigError(`${option} must be 10 to 100 printable ASCII characters (Twitch's rule for EventSub secrets).`);
  }
}

/** A base URL without its trailing slashes. */
export function stripSlash(value: string): string {
  return typeof value === 'string' ? value.replace(/\/+$/, '') : value;
}
