/** Why `TokenService` asks a `TokenSource` for a token. */
export type TokenSourceReason = 'not_found' | 'missing_scopes' | 'reauth_required';

/** What `TokenSource.obtainToken` is told. */
export interface TokenSourceRequest {
  /** The user asked for, or null when asked through an intent that maps to nobody. */
  userId: string | null;
  /** The intent asked for, when the caller used `getTokenForIntent`. */
  intent: string | null;
  /** Every scope the caller needs. */
  scopes: string[];
  reason: TokenSourceReason;
}

/** A token a `TokenSource` hands over; it is validated with Twitch and stored. */
export interface TokenSourceResult {
  accessToken: string;
  refreshToken?: string | null;
}

/**
 * Optional hook (`forRoot({ tokenSource: MyTokenSource })`), built by Nest so it
 * may inject anything. Asked for a fresh token when none is stored, when the
 * stored one lacks scopes, or when its user must authorize again. Return null
 * to give up; the caller then gets the original error.
 */
export interface TokenSource {
  obtainToken(request: TokenSourceRequest): Promise<TokenSourceResult | null>;
}
