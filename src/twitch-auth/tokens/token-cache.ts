import { Inject, Injectable } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import type { TokenStatus } from '../storage/token-repository.interface.js';
import type { AccessToken } from './access-token.js';
import { toAccessToken, type PlainToken } from './token-store.js';

/** How long a cached token is trusted before the repository is read again (another instance may have changed it). */
export const CACHE_TTL_MS = 30_000;

/** One user's token as kept in memory for the hot path. */
export interface CachedToken {
  readonly token: AccessToken;
  /** The bearer string, kept beside the token so the hot path reads one field. */
  readonly accessToken: string;
  /** Before this instant the entry may be served as is: valid, trusted and not due (0 when not valid). */
  readonly usableUntil: number;
  readonly status: TokenStatus;
  /** From this instant on the token should be refreshed before use. */
  readonly refreshDueAt: number;
  /** Until this instant the entry is trusted without reading the repository. */
  readonly freshUntil: number;
}

/**
 * The instant a token becomes due for refresh: `refreshBeforeMs` ahead of its
 * expiry, but never earlier than half its lifetime, so short-lived tokens are
 * not refreshed in a loop.
 */
export function refreshDueAt(row: Pick<PlainToken, 'expiresAt' | 'obtainedAt'>, refreshBeforeMs: number): number {
  if (row.expiresAt === null) return Number.POSITIVE_INFINITY;
  const lifetime = Math.max(0, row.expiresAt - row.obtainedAt);
  return row.expiresAt - Math.min(refreshBeforeMs, lifetime / 2);
}

/** Decrypted tokens in memory so a hot `getAccessToken` costs a map lookup. */
@Injectable()
export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();
  private readonly refreshBeforeMs: number;

  constructor(@Inject(TWITCH_AUTH_RESOLVED_OPTIONS) options: ResolvedTwitchAuthOptions) {
    this.refreshBeforeMs = options.maintenance.refreshBeforeExpirySeconds * 1000;
  }

  get(userId: string): CachedToken | undefined {
    return this.entries.get(userId);
  }

  /** Caches `row` and returns its entry. */
  put(row: PlainToken, now: number = Date.now()): CachedToken {
    const dueAt = refreshDueAt(row, this.refreshBeforeMs);
    const freshUntil = now + CACHE_TTL_MS;
    const entry: CachedToken = {
      token: toAccessToken(row),
      accessToken: row.accessToken,
      usableUntil: row.status === 'valid' ? Math.min(dueAt, freshUntil) : 0,
      status: row.status,
      refreshDueAt: dueAt,
      freshUntil,
    };
    this.entries.set(row.userId, entry);
    return entry;
  }

  delete(userId: string): void {
    this.entries.delete(userId);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
