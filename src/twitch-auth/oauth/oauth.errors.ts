import { TwitchAuthError } from '../twitch-auth.errors.js';

/** Why a `state` was refused; the built-in callback reports it as the `twitch.oauth.failed` reason. */
export type OAuthStateFailureReason = 'invalid_state' | 'state_expired' | 'state_replayed' | 'cookie_missing' | 'cookie_mismatch';

/**
 * Every `reason` of `twitch.oauth.failed`, so listeners can switch on it:
 * the state reasons, plus what can go wrong around them.
 */
export type OAuthFailureReason =
  | OAuthStateFailureReason
  | 'missing_code'
  | 'access_denied'
  | 'authorization_error'
  | 'code_rejected'
  | 'twitch_unavailable'
  | 'configuration_error'
  | 'internal_error';

const STATE_MESSAGES: Record<OAuthStateFailureReason, string> = {
  invalid_state: 'The authorization request is invalid or was tampered with (its state does not verify).',
  state_expired: 'The authorization request expired before Twitch sent the browser back.',
  state_replayed: 'This authorization request was already completed once; it cannot be used again.',
  cookie_missing:
    'This browser did not start this authorization (its cookie is missing): finish the authorization in the browser that started it, with cookies enabled.',
  cookie_mismatch: 'This authorization was started in another browser session (its cookie does not match).',
};

/**
 * A `state` failed verification. The message is safe to show to the user;
 * `reason` tells which check failed. Always answer with 403 and start over.
 */
export class OAuthStateError extends TwitchAuthError {
  constructor(readonly reason: OAuthStateFailureReason) {
    super(STATE_MESSAGES[reason]);
  }
}

/**
 * `OAuthStateService.issue` was given a `returnTo` too long for the state to
 * carry (Twitch sends the state back, and `verify` bounds its length).
 * Shorten it; the built-in `/oauth` route refuses such a `return_to` with 400.
 */
export class OAuthReturnToTooLongError extends TwitchAuthError {
  constructor(readonly maxLength: number) {
    super(`returnTo is too long for the OAuth state: at most ${maxLength} characters once percent-encoded (UTF-8 bytes).`);
  }
}
