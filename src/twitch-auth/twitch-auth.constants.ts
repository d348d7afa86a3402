/** Injection token of the options with defaults filled in (`ResolvedTwitchAuthOptions`). */
export const TWITCH_AUTH_RESOLVED_OPTIONS = Symbol('TWITCH_AUTH_RESOLVED_OPTIONS');

/** Injection token of the user's `TokenSource`, when one is configured. */
export const TWITCH_AUTH_TOKEN_SOURCE = Symbol('TWITCH_AUTH_TOKEN_SOURCE');

/** Intent given to the token seeded by the `token` option ("simple" mode). */
export const SIMPLE_MODE_INTENT = 'default';
