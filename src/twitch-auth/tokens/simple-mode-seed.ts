import type { Logger } from '@nestjs/common';
import { SIMPLE_MODE_INTENT } from '../twitch-auth.constants.js';
import type { TwitchIdentityClient } from '../twitch/twitch-identity.client.js';
import { InvalidAccessTokenError } from '../twitch/twitch.errors.js';
import type { TokenStore } from './token-store.js';
import type { TokenService } from './token.service.js';

/** What seeding the configured token uses. */
export interface SimpleModeSeedDeps {
  identity: TwitchIdentityClient;
  store: TokenStore;
  tokens: Pick<TokenService, 'addUser' | 'addIntents'>;
  logger: Logger;
}

/**
 * Stores the `token` option ("simple" mode) at startup unless a valid token
 * of that user (or of the simple-mode intent) is already stored: that one was
 * refreshed since, and the configured one may be dead. Never throws, so a bad
 * configured token does not stop the application.
 */
export async function seedSimpleModeToken(deps: SimpleModeSeedDeps, accessToken: string, refreshToken: string | null): Promise<void> {
  const { identity, store, tokens, logger } = deps;
  try {
    const validation = await identity.validate(accessToken).catch((error: unknown) => {
      if (error instanceof InvalidAccessTokenError) return null;
      throw error;
    });
    const stored = validation?.userId
      ? await store.repository.get(validation.userId)
      : await store.repository.findByIntent(SIMPLE_MODE_INTENT);
    if (stored && stored.status === 'valid') {
      if (!stored.intents.includes(SIMPLE_MODE_INTENT)) await tokens.addIntents(stored.userId, [SIMPLE_MODE_INTENT]);
      logger.log(`Simple mode: using the stored token of user ${stored.userId} (newer than the configured one).`);
      return;
    }
    const info = await tokens.addUser(accessToken, refreshToken, { intents: [SIMPLE_MODE_INTENT] });
    logger.log(`Simple mode: stored the configured token of user ${info.userId} (${info.login ?? 'unknown login'}).`);
  } catch (error) {
    logger.error(`Simple mode: the configured token could not be used: ${error instanceof Error ? error.message : String(error)}`);
  }
}
