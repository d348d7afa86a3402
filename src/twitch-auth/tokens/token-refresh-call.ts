// A type of its own so the refresher and the work it hands out (TokenRenewal) share it without importing each other.

/**
 * How the maintenance scheduler and the 401 path call the refresher.
 */
export interface MaintenanceCallOptions {
  /** Fail at once with `TokenLeaseTimeoutError` instead of waiting when another instance holds the user's lease. */
  skipIfLeased?: boolean;
  /** `validate` only: the `lastValidatedAt` the caller saw; nothing is done when the token was validated or refreshed since. */
  seenLastValidatedAt?: number | null;
  /**
   * `refresh` only: Twitch rejected the seen access token (401). It is
   * refreshed whenever the stored row still holds it, due or not; a row that
   * holds another token is answered as it is.
   */
  rejected?: boolean;
  /**
   * Gives up (rejecting with the signal's reason) while waiting for a lease or
   * for Twitch's answer. Once Twitch answered, the result is still stored:
   * a refreshed token is never dropped because its caller left.
   */
  signal?: AbortSignal;
}
