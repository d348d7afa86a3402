import { Injectable } from '@nestjs/common';
import type { ClaimStore } from './claim-store.interface.js';

/** Upper bound of remembered keys; the oldest are forgotten first past it. */
export const IN_MEMORY_CLAIM_LIMIT = 100_000;

/**
 * Claims kept in this process, bounded in size and swept as they expire.
 * Only right for a single instance: other processes cannot see them.
 *
 * Claims are also kept in a first-in-first-out queue so eviction looks only at
 * the oldest few: scanning the Map from its front instead costs a walk over
 * every deleted slot once the store is full (100 µs a claim at 100,000 keys).
 *
 * Up to 100,000 claims stay alive, so each costs as little memory as it can:
 * keys live in one Map per namespace (no combined string per claim), the
 * queue is three parallel arrays (no object per claim, expiries unboxed), and
 * a Map value is the claim's number in the queue (a small integer, where an
 * epoch timestamp would be a heap number).
 */
@Injectable()
export class InMemoryClaimStore implements ClaimStore {
  /** Per namespace: key → number of its current claim. */
  private readonly namespaces = new Map<string, Map<string, number>>();
  private count = 0;
  private queueKeys: string[] = [];
  private queueNamespaces: Map<string, number>[] = [];
  private queueExpiries: number[] = [];
  /** Index of the oldest claim not yet evicted. */
  private head = 0;
  /** Number of the claim at index 0 of the queue arrays. */
  private base = 0;

  constructor(private readonly limit: number = IN_MEMORY_CLAIM_LIMIT) {}

  async claim(namespace: string, key: string, expiresAt: number): Promise<boolean> {
    const now = Date.now();
    let keys = this.namespaces.get(namespace);
    if (keys === undefined) {
      keys = new Map();
      this.namespaces.set(namespace, keys);
    }
    const current = keys.get(key);
    if (current === undefined) this.count++;
    else if (this.queueExpiries[current - this.base]! > now) return false;
    keys.set(key, this.base + this.queueKeys.length);
    this.queueKeys.push(key);
    this.queueNamespaces.push(keys);
    this.queueExpiries.push(expiresAt);
    this.evict(now);
    return true;
  }

  /** Number of remembered keys (expired ones may linger until a later claim). */
  get size(): number {
    return this.count;
  }

  private evict(now: number): void {
    const length = this.queueKeys.length;
    while (this.head < length) {
      if (this.count <= this.limit && this.queueExpiries[this.head]! > now) break;
      const keys = this.queueNamespaces[this.head]!;
      const key = this.queueKeys[this.head]!;
      // A key claimed again after expiring has a newer claim further back; only that one removes it.
      if (keys.get(key) === this.base + this.head) {
        keys.delete(key);
        this.count--;
      }
      this.head++;
    }
    if (this.head >= 4096 && this.head * 2 >= length) {
      this.queueKeys = this.queueKeys.slice(this.head);
      this.queueNamespaces = this.queueNamespaces.slice(this.head);
      this.queueExpiries = this.queueExpiries.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
