// The options of TokenService's calls, apart so the helpers that take them need not import the service.

/** Parameters of `getAuthorizationUrl`. */
export interface AuthorizationUrlOptions {
  /** Scopes to ask for; `defaultScopes` when omitted. */
  scopes?: string[];
  /** Make Twitch show the consent page even if the user already agreed. */
  forceVerify?: boolean;
  /** Your CSRF state; check it in your callback before calling `exchangeCode`. */
  state?: string;
}

/** Options of a call its caller may give up on, e.g. on Ctrl+C in a command-line tool. */
export interface TokenCallOptions {
  /**
   * Stops waiting (for another instance's lease, or for Twitch's answer) and
   * rejects with the signal's reason. What Twitch already answered is still
   * stored: a refresh that succeeded is written before the call settles.
   */
  signal?: AbortSignal;
}

/** Optional facts for `addToken`. */
export interface AddTokenOptions {
  login?: string | null;
  /** When the token expires; unknown until the next validation when omitted. */
  expiresAt?: Date | null;
  intents?: string[];
}
