/**
 * Root of every error this library throws, so callers can tell ours apart
 * with one `instanceof`. Messages never contain a token, code or secret.
 */
export class TwitchAuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A `forRoot` option is missing or malformed; the message names the option. */
export class TwitchAuthConfigError extends TwitchAuthError {}
