import { InvalidAccessTokenError, TwitchUnexpectedResponseError } from '../twitch/twitch.errors.js';

/** Whose token a Helix call used: a user's (possibly found through an intent), or the app's. */
export type HelixTokenOwner = { userId: string } | 'app';

/**
 * Helix answered 401 again right after the token was replaced (refreshed for
 * a user, requested anew for the app). Permanent for this call.
 */
export class HelixUnauthorizedError extends InvalidAccessTokenError {
  /** Whose token Twitch rejected. */
  readonly owner: HelixTokenOwner;

  constructor(owner: HelixTokenOwner, details: { twitchMessage: string | null; method: string; path: string }) {
    super({ status: 401, twitchMessage: details.twitchMessage, endpoint: 'helix' });
    this.owner = owner;
    const said = details.twitchMessage ? ` ("${details.twitchMessage}")` : '';
    this.message =
      owner === 'app'
        ? `Helix rejected a freshly requested app access token on ${details.method} ${details.path}${said}: check that clientId and clientSecret belong to the same application, and that the endpoint accepts app tokens.`
        : `Helix rejected the token of user ${owner.userId} on ${details.method} ${details.path} even after it was refreshed${said}: the user may have to authorize the app again, or the endpoint needs another kind of token.`;
  }
}

/** Helix answered a status the caller did not expect (4xx other than 401 and 429). Permanent. */
export class HelixResponseError extends TwitchUnexpectedResponseError {
  /** The HTTP method of the call. */
  readonly method: string;
  /** The Helix path of the call, without the query string. */
  readonly path: string;

  constructor(details: { status: number; twitchMessage: string | null; method: string; path: string }) {
    super({ status: details.status, twitchMessage: details.twitchMessage, endpoint: 'helix' });
    const said = details.twitchMessage ? `: "${details.twitchMessage}"` : '';
    this.message = `Helix answered ${details.status} to ${details.method} ${details.path}${said}.`;
    this.method = details.method;
    this.path = details.path;
  }
}
