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

/**
 * A stored token could not be decrypted: no configured key opens it at this
 * row and column (wrong or dropped key, a ciphertext copied from another row
 * or column, or a corrupted row). Nothing is served and the row is left untouched.
 */
export class TokenDecryptionError extends TwitchAuthError {
  constructor(readonly userId: string) {
    super(
      `The stored token of user ${userId} could not be decrypted: neither encryptionKey nor any of previousEncryptionKeys opens it for this user. The row was left untouched. If the key changed, put the key it was stored with in previousEncryptionKeys; if the value was copied from another row or column (or is corrupted), it is refused: have the user authorize again.`,
    );
  }
}

/**
 * A stored token is plain text although `encryptionKey` is set. Refused: in an
 * encrypted store a plain value can only be a leftover of the time before the
 * key, or planted.
 */
export class PlaintextTokenError extends TwitchAuthError {
  constructor(readonly userId: string) {
    super(
      `The stored token of user ${userId} is not encrypted although encryptionKey is set, so it is refused (it may have been planted). The row was left untouched. If the key was just added to an existing store, run "twitch-auth rotate-key" to encrypt every row (or set acceptPlaintextTokens: true until then).`,
    );
  }
}

/** A key rotation was asked for without a key to rewrite with. */
export class EncryptionKeyRequiredError extends TwitchAuthError {
  constructor() {
    super(
      'Rotating needs encryptionKey (TWITCH_AUTH_ENCRYPTION_KEY), the key every token is rewritten with: set it, and put the old key in previousEncryptionKeys (TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS).',
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

/**
 * The application is shutting down: no new refresh or validation starts, so
 * none can be cut off when storage closes. Reads keep serving a token that has
 * not expired yet.
 */
export class TwitchAuthShuttingDownError extends TwitchAuthError {
  constructor(readonly userId: string) {
    super(`The application is shutting down: the token of user ${userId} is not refreshed or validated any more in this process.`);
  }
}
