import { Injectable } from '@nestjs/common';
import type { ClaimStore } from './claim-store.interface.js';

/** Upper bound of remembered keys; the oldest are forgotten first past it. */
export const IN_MEMORY_CLAIM_LIMIT = 100_000;

/**
 * Claims kept in this process, bounded in size and swept as they expire.
 * Only right for a single instance: other processes cannot see them.
 */
@Injectable()
export class InMemoryClaimStore implements ClaimStore {
  private readonly claims = new Map<string, number>();

  constructor(private readonly limit: number = IN_MEMORY_CLAIM_LIMIT) {}

  async claim(namespace: string, key: string, expiresAt: number): Promise<boolean> {
    const now = Date.now();
    const id = `${namespace}\u0000${key}`;
    const existing = this.claims.get(id);
    if (existing !== undefined && existing > now) return false;
    this.claims.delete(id);
    this.claims.set(id, expiresAt);
    this.evict(now);
    return true;
  }

  /** Number of remembered keys (expired ones may linger until the next claim). */
  get size(): number {
    return this.claims.size;
  }

  private evict(now: number): void {
    // Insertion order is claim order: drop expired or overflowing entries from the front.
    for (const [id, expiresAt] of this.claims) {
      if (this.claims.size <= this.limit && expiresAt > now) break;
      this.claims.delete(id);
    }
  }
}
