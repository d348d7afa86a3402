import { Inject, Injectable } from '@nestjs/common';
import { inspect } from 'node:util';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import type { TokenStatus } from '../storage/token-repository.interface.js';
import type { AccessToken } from './access-token.js';
import { toAccessToken, type PlainToken } from './token-store.js';

/** How long a cached token is trusted before the repository is read again (another instance may have changed it). */
export const CACHE_TTL_MS = 30_000;

/** One user's token as kept in memory (the hot path reads the cache's slot arrays instead). */
export interface CachedToken {
  readonly token: AccessToken;
  readonly status: TokenStatus;
  /** From this instant on the token should be refreshed before use. */
  readonly refreshDueAt: number;
  /** Until this instant the entry is trusted without reading the repository. */
  readonly freshUntil: number;
}

/**
 * The instant a token becomes due for refresh: `refreshBeforeMs` ahead of its
 * expiry, but never earlier than half its lifetime, so short-lived tokens are
 * not refreshed in a loop. A token without a refresh token cannot be
 * refreshed: it is served as it is until it expires.
 */
export function refreshDueAt(row: Pick<PlainToken, 'expiresAt' | 'obtainedAt' | 'refreshToken'>, refreshBeforeMs: number): number {
  if (row.expiresAt === null) return Number.POSITIVE_INFINITY;
  if (row.refreshToken === null) return row.expiresAt;
  const lifetime = Math.max(0, row.expiresAt - row.obtainedAt);
  return row.expiresAt - Math.min(refreshBeforeMs, lifetime / 2);
}

/**
 * Decrypted tokens in memory so a hot `getAccessToken` costs a map lookup.
 *
 * Each cached user owns a slot: the hot path reads the slot's usable-until
 * instant from one typed array and its settled access-token promise from one
 * array, both dense, instead of following pointers from the map into a
 * separate entry object, a boxed number and a promise scattered over the
 * heap. With 10,000 users in random order those pointer chases were most of
 * the cost of a call.
 */
@Injectable()
export class TokenCache {
  private readonly slots = new Map<string, number>();
  private entries: (CachedToken | undefined)[] = [];
  private usableUntil = new Float64Array(64);
  private accessTokenPromises: (Promise<string> | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private readonly refreshBeforeMs: number;

  constructor(@Inject(TWITCH_AUTH_RESOLVED_OPTIONS) options: ResolvedTwitchAuthOptions) {
    this.refreshBeforeMs = options.maintenance.refreshBeforeExpirySeconds * 1000;
  }

  get(userId: string): CachedToken | undefined {
    const slot = this.slots.get(userId);
    return slot === undefined ? undefined : this.entries[slot];
  }

  /**
   * The cached access token as an already-settled promise, when it may be
   * served as is at `now` and holds every one of `scopes`; `undefined`
   * otherwise. The same promise object is handed to every caller, so the hot
   * path allocates nothing.
   */
  usableAccessToken(userId: string, now: number, scopes: readonly string[] | undefined): Promise<string> | undefined {
    const slot = this.slots.get(userId);
    if (slot === undefined || now >= this.usableUntil[slot]) return undefined;
    if (scopes !== undefined && !this.entries[slot]!.token.hasScopes(scopes)) return undefined;
    return this.accessTokenPromises[slot];
  }

  /** Caches `row` and returns its entry. */
  put(row: PlainToken, now: number = Date.now()): CachedToken {
    const dueAt = refreshDueAt(row, this.refreshBeforeMs);
    const freshUntil = now + CACHE_TTL_MS;
    const entry: CachedToken = { token: toAccessToken(row), status: row.status, refreshDueAt: dueAt, freshUntil };
    let slot = this.slots.get(row.userId);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.entries.length;
      if (slot >= this.usableUntil.length) this.grow();
      this.slots.set(row.userId, slot);
    }
    this.entries[slot] = entry;
    // Before this instant the token may be served as is: valid, trusted and not due (never when not valid).
    this.usableUntil[slot] = row.status === 'valid' ? Math.min(dueAt, freshUntil) : 0;
    this.accessTokenPromises[slot] = Promise.resolve(row.accessToken);
    return entry;
  }

  /**
   * Updates the user's entry only if there is one. Background work
   * (maintenance, other callers' refreshes) keeps cached tokens current this
   * way without filling the cache with users nobody reads.
   */
  putIfCached(row: PlainToken, now: number = Date.now()): void {
    if (this.slots.has(row.userId)) this.put(row, now);
  }

  delete(userId: string): void {
    const slot = this.slots.get(userId);
    if (slot === undefined) return;
    this.slots.delete(userId);
    this.entries[slot] = undefined;
    this.accessTokenPromises[slot] = undefined;
    this.usableUntil[slot] = 0;
    this.freeSlots.push(slot);
  }

  clear(): void {
    this.slots.clear();
    this.entries = [];
    this.accessTokenPromises = [];
    this.usableUntil = new Float64Array(64);
    this.freeSlots.length = 0;
  }

  get size(): number {
    return this.slots.size;
  }

  /** Inspection counts the cached tokens; it never prints them. */
  [inspect.custom](): string {
    return `TokenCache { tokens: ${this.slots.size} }`;
  }

  private grow(): void {
    const larger = new Float64Array(this.usableUntil.length * 2);
    larger.set(this.usableUntil);
    this.usableUntil = larger;
  }
}
