import type { NewStoredToken, StoredToken, StoredTokenChanges } from '../token-repository.interface.js';
import type { TwitchTokenEntity } from './twitch-token.entity.js';

/** Column values of an entity write, keyed by entity property. */
export type TokenColumns = Partial<Omit<TwitchTokenEntity, 'userId' | 'version'>>;

/** Converts a row to the repository's record; `last_validated_at = 0` means never. */
export function toStoredToken(row: TwitchTokenEntity): StoredToken {
  return {
    userId: row.userId,
    login: row.login,
    accessToken: row.accessToken,
    refreshToken: row.refreshToken,
    scopes: [...row.scopes],
    expiresAt: row.expiresAt,
    obtainedAt: row.obtainedAt,
    lastValidatedAt: row.lastValidatedAt === 0 ? null : row.lastValidatedAt,
    status: row.status,
    intents: [...row.intents],
    retryAt: row.retryAt,
    failureCount: row.failureCount,
    version: row.version,
    leaseOwner: row.leaseOwner,
    leaseExpiresAt: row.leaseExpiresAt,
  };
}

/** Every column `save` writes except the key and the bookkeeping (`version`, lease). */
export function columnsOfNewToken(token: NewStoredToken): TokenColumns {
  return {
    login: token.login,
    accessToken: token.accessToken,
    refreshToken: token.refreshToken,
    scopes: [...token.scopes],
    intents: distinct(token.intents),
    expiresAt: token.expiresAt,
    obtainedAt: token.obtainedAt,
    lastValidatedAt: token.lastValidatedAt ?? 0,
    status: token.status,
    retryAt: token.retryAt ?? 0,
    failureCount: token.failureCount ?? 0,
  };
}

/**
 * The columns an `update` changes: only keys present and not `undefined`,
 * matching the in-memory reference. Releasing the lease also clears its deadline.
 */
export function columnsOfChanges(changes: StoredTokenChanges): TokenColumns {
  const columns: TokenColumns = {};
  const set = <K extends keyof TokenColumns>(key: K, value: TokenColumns[K] | undefined): void => {
    if (value !== undefined) columns[key] = value;
  };
  set('login', changes.login);
  set('accessToken', changes.accessToken);
  set('refreshToken', changes.refreshToken);
  set('scopes', changes.scopes && [...changes.scopes]);
  set('intents', changes.intents && distinct(changes.intents));
  set('expiresAt', changes.expiresAt);
  set('obtainedAt', changes.obtainedAt);
  set('lastValidatedAt', changes.lastValidatedAt === null ? 0 : changes.lastValidatedAt);
  set('status', changes.status);
  set('retryAt', changes.retryAt);
  set('failureCount', changes.failureCount);
  set('leaseOwner', changes.leaseOwner);
  if (changes.leaseOwner === null) columns.leaseExpiresAt = null;
  return columns;
}

/** The list without repeats, first occurrence kept: an intent row exists once per name. */
export function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
