import { TwitchAuthError } from '../twitch-auth.errors.js';
import type { TokenInfo } from './access-token.js';
import type { TokenCache } from './token-cache.js';
import { toTokenInfo, type TokenStore } from './token-store.js';
import { TokenNotFoundError } from './token.errors.js';

/**
 * Intent updates are read-modify-write on a row a refresh may rewrite at any
 * moment, so each is written only if the row's version is unchanged and is
 * retried a few times on a fresh read before giving up.
 */
const INTENT_UPDATE_ATTEMPTS = 5;

/** Adds `intents` to the user's row (keeping those it holds); see `TokenService.addIntents`. */
export async function addUserIntents(store: TokenStore, cache: TokenCache, userId: string, intents: string[]): Promise<TokenInfo> {
  for (let attempt = 0; attempt < INTENT_UPDATE_ATTEMPTS; attempt++) {
    const row = await store.get(userId);
    if (!row) throw new TokenNotFoundError({ userId });
    const merged = [...new Set([...row.intents, ...intents])];
    const written = await store.update(userId, { intents: merged }, { version: row.version });
    if (written) {
      cache.put(written);
      return toTokenInfo(written);
    }
  }
  throw new TwitchAuthError(`The token of user ${userId} kept changing while intents were added; try again.`);
}

/** Removes `intents` from the user's row; see `TokenService.removeIntents`. */
export async function removeUserIntents(store: TokenStore, userId: string, intents: string[]): Promise<TokenInfo> {
  for (let attempt = 0; attempt < INTENT_UPDATE_ATTEMPTS; attempt++) {
    const row = await store.get(userId);
    if (!row) throw new TokenNotFoundError({ userId });
    const written = await store.update(userId, { intents: row.intents.filter((i) => !intents.includes(i)) }, { version: row.version });
    if (written) return toTokenInfo(written);
  }
  throw new TwitchAuthError(`The token of user ${userId} kept changing while intents were removed; try again.`);
}
