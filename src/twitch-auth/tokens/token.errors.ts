import { SIMPLE_MODE_INTENT } from '../twitch-auth.constants.js';
import { TwitchAuthError } from '../twitch-auth.errors.js';

/** No token is stored for the user (or intent) asked for. */
export class TokenNotFoundError extends TwitchAuthError {
  constructor(readonly subject: { userId?: string; intent?: string }) {
    super(
      subject.intent !== undefined
        ? `No user holds the intent "${subject.intent}": call addIntents(userId, ["${subject.intent}"]) after adding the user.`
        : `No token is stored for user ${subject.userId}: authorize the user first (OAuth route, device flow or addUser).`,
    );
  }
}

/**
 * Simple mode: the configured token is not stored yet because Twitch failed
 * while it was being checked. A `TokenNotFoundError`, so code handling that
 * one keeps working; the seed is retried in the background.
 */
export class SimpleModeTokenPendingError extends TokenNotFoundError {
  constructor(options?: { cause?: unknown }) {
    super({ intent: SIMPLE_MODE_INTENT });
    this.message =
      'The configured token (simple mode) is not stored yet: Twitch could not be reached to check it. It is retried in the background; try again shortly.';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** Simple mode: the configured token was rejected for good (revoked, not refreshable, another client id). */
export class SimpleModeTokenRejectedError extends TokenNotFoundError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super({ intent: SIMPLE_MODE_INTENT });
    this.message = `The configured token (simple mode) cannot be used (${reason}): set a new token option and restart.`;
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** A `TokenSource` answered with a token of another user than the one asked for; nothing was stored. */
export class TokenSourceWrongUserError extends TwitchAuthError {
  constructor(
    readonly askedUserId: string,
    readonly returnedUserId: string,
  ) {
    super(
      `The TokenSource returned a token of user ${returnedUserId} when user ${askedUserId} was asked for; nothing was stored. Fix the TokenSource to return the asked user's token.`,
    );
  }
}

/** The stored token lacks scopes the caller needs; the user must authorize them. */
export class MissingScopesError extends TwitchAuthError {
  constructor(
    readonly userId: string,
    readonly missingScopes: string[],
  ) {
    super(`The token of user ${userId} lacks the scopes ${missingScopes.join(', ')}: have the user authorize again with them.`);
  }
}

/** The user's grant is gone (revoked, or its refresh token rejected): they must authorize again. */
export class ReauthorizationRequiredError extends TwitchAuthError {
  constructor(
    readonly userId: string,
    options?: { cause?: unknown },
  ) {
    super(`The token of user ${userId} was revoked or can no longer be refreshed: the user must authorize the app again.`, options);
  }
}

/** The token is expired and Twitch could not be reached to refresh it; the stored token is kept. */
export class TokenRefreshFailedError extends TwitchAuthError {
  constructor(
    readonly userId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The token of user ${userId} expired and could not be refreshed now (Twitch unreachable or failing); try again shortly.`,
      options,
    );
  }
}

/** Another process kept the user's refresh lease longer than we could wait. */
export class TokenLeaseTimeoutError extends TwitchAuthError {
  constructor(readonly userId: string) {
    super(`Timed out waiting for another instance to finish refreshing the token of user ${userId}.`);
  }
}

/** A stored token could not be decrypted: wrong `encryptionKey`, or a corrupted row. The row is left untouched. */
export class TokenDecryptionError extends TwitchAuthError {
  constructor(readonly userId: string) {
    super(
      `The stored token of user ${userId} could not be decrypted: encryptionKey differs from the key it was stored with (or the row is corrupted). The row was left untouched; restore the previous key.`,
    );
  }
}

/** The stored token is encrypted but no `encryptionKey` is configured. */
export class EncryptionKeyMissingError extends TwitchAuthError {
  constructor(readonly userId: string) {
    super(
      `The stored token of user ${userId} is encrypted, but no encryptionKey is configured. The row was left untouched; set encryptionKey.`,
    );
  }
}
