import { Injectable } from '@nestjs/common';
import type { ClaimStore } from './claim-store.interface.js';

/** Upper bound of remembered keys; the oldest are forgotten first past it. */
export const IN_MEMORY_CLAIM_LIMIT = 100_000;

interface ClaimRecord {
  id: string;
  expiresAt: number;
}

/**
 * Claims kept in this process, bounded in size and swept as they expire.
 * Only right for a single instance: other processes cannot see them.
 *
 * Claims are also kept in a first-in-first-out queue so eviction looks only at
 * the oldest few: scanning the Map from its front instead costs a walk over
 * every deleted slot once the store is full (100 µs a claim at 100,000 keys).
 */
@Injectable()
export class InMemoryClaimStore implements ClaimStore {
  private readonly claims = new Map<string, number>();
  private queue: ClaimRecord[] = [];
  private head = 0;

  constructor(private readonly limit: number = IN_MEMORY_CLAIM_LIMIT) {}

  async claim(namespace: string, key: string, expiresAt: number): Promise<boolean> {
    const now = Date.now();
    const id = `${namespace}\u0000${key}`;
    const existing = this.claims.get(id);
    if (existing !== undefined && existing > now) return false;
    this.claims.set(id, expiresAt);
    this.queue.push({ id, expiresAt });
    this.evict(now);
    return true;
  }

  /** Number of remembered keys (expired ones may linger until a later claim). */
  get size(): number {
    return this.claims.size;
  }

  private evict(now: number): void {
    while (this.head < this.queue.length) {
      const oldest = this.queue[this.head]!;
      if (this.claims.size <= this.limit && oldest.expiresAt > now) break;
      // A key claimed again after expiring has a newer record further back; only the current one removes it.
      if (this.claims.get(oldest.id) === oldest.expiresAt) this.claims.delete(oldest.id);
      this.head++;
    }
    if (this.head >= 4096 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
