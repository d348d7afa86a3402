import { TwitchAuthError } from '../twitch-auth.errors.js';
import type { NewStoredToken } from '../storage/token-repository.interface.js';
import type { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import { InvalidAccessTokenError } from '../twitch/twitch.errors.js';
import type { TokenGrant, TokenValidation } from '../twitch/twitch.types.js';
import type { TokenInfo } from './access-token.js';

/** A user token Twitch just confirmed, with the facts it told: ready to be stored, not stored yet. */
export type ValidatedUserToken = Omit<NewStoredToken, 'status' | 'intents'>;

/** Validates a user token with Twitch (refreshing a dead one when a refresh token came); stores nothing. */
export type ValidateUserToken = (accessToken: string, refreshToken: string | null) => Promise<ValidatedUserToken>;

/**
 * Stores a token (validated or not), replacing the user's previous one; `intents` are added to those the
 * user already serves.
 */
export type StoreUserToken = (token: ValidatedUserToken, intents: readonly string[]) => Promise<TokenInfo>;

/**
 * Asks Twitch about `accessToken` and turns the answer into a storable token.
 * A dead access token is refreshed first when `refreshToken` is given. Throws
 * when the token is an app token or was issued to another client id: such a
 * token could never be refreshed by this application.
 */
export async function validateUserToken(
  identity: Pick<TwitchIdentityClient, 'validate' | 'refresh'>,
  clientId: string,
  accessToken: string,
  refreshToken: string | null,
): Promise<ValidatedUserToken> {
  let grant: TokenGrant = { accessToken, refreshToken, expiresIn: 0, scopes: [] };
  let validation: TokenValidation;
  try {
    validation = await identity.validate(accessToken);
  } catch (error) {
    if (!(error instanceof InvalidAccessTokenError) || !refreshToken) throw error;
    grant = await identity.refresh(refreshToken);
    validation = await identity.validate(grant.accessToken);
  }
  if (validation.userId === null) {
    throw new TwitchAuthError('addUser was given an app access token; it needs a user access token.');
  }
  if (validation.clientId !== clientId) {
    throw new TwitchAuthError(
      `The token was issued to another client id than the configured clientId; it could not be refreshed with this app's credentials.`,
    );
  }
  const now = Date.now();
  return {
    userId: validation.userId,
    login: validation.login,
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken,
    scopes: validation.scopes,
    expiresAt: validation.expiresIn > 0 ? now + validation.expiresIn * 1000 : null,
    obtainedAt: now,
    lastValidatedAt: now,
  };
}
