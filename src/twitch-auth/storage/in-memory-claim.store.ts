import { Injectable } from '@nestjs/common';
import type { ClaimStore } from './claim-store.interface.js';

/** Upper bound of remembered keys in each namespace; the oldest of a namespace are forgotten first past it. */
export const IN_MEMORY_CLAIM_LIMIT = 100_000;

/**
 * Claims kept in this process, bounded in size and swept as they expire.
 * Only right for a single instance: other processes cannot see them.
 *
 * Each namespace has its own bound, so traffic in one cannot evict the live
 * keys of another: a flood of OAuth states (anyone can start an
 * authorization) must not make the EventSub de-duplication forget a message
 * id and dispatch a redelivery twice. Namespaces are few and fixed by code,
 * never taken from requests.
 */
@Injectable()
export class InMemoryClaimStore implements ClaimStore {
  private readonly namespaces = new Map<string, NamespaceClaims>();

  /** @param limit the bound of each namespace. */
  constructor(private readonly limit: number = IN_MEMORY_CLAIM_LIMIT) {}

  async claim(namespace: string, key: string, expiresAt: number): Promise<boolean> {
    return this.claimNow(namespace, key, expiresAt);
  }

  /** `claim`, answered synchronously: nothing here waits. */
  claimNow(namespace: string, key: string, expiresAt: number): boolean {
    let claims = this.namespaces.get(namespace);
    if (claims === undefined) {
      claims = new NamespaceClaims(this.limit);
      this.namespaces.set(namespace, claims);
    }
    return claims.claim(key, expiresAt, Date.now());
  }

  /** Number of remembered keys in every namespace (expired ones may linger until a later claim). */
  get size(): number {
    let total = 0;
    for (const claims of this.namespaces.values()) total += claims.size;
    return total;
  }
}

/**
 * The claims of one namespace. They are also kept in a first-in-first-out
 * queue so eviction looks only at the oldest few: scanning the Map from its
 * front instead costs a walk over every deleted slot once the store is full
 * (100 µs a claim at 100,000 keys).
 *
 * Up to 100,000 claims stay alive, so each costs as little memory as it can:
 * the queue is two parallel arrays (no object per claim, expiries unboxed),
 * and a Map value is the claim's number in the queue (a small integer, where
 * an epoch timestamp would be a heap number).
 */
class NamespaceClaims {
  /** Key → number of its current claim. */
  private readonly keys = new Map<string, number>();
  private queueKeys: string[] = [];
  private queueExpiries: number[] = [];
  /** Index of the oldest claim not yet evicted. */
  private head = 0;
  /** Number of the claim at index 0 of the queue arrays. */
  private base = 0;
  /** Claims in the queue that a newer claim of their key replaced; while there are none, eviction need not check. */
  private superseded = 0;

  constructor(private readonly limit: number) {}

  /** Remembered keys, expired ones included until evicted. */
  get size(): number {
    return this.keys.size;
  }

  claim(key: string, expiresAt: number, now: number): boolean {
    const current = this.keys.get(key);
    if (current !== undefined) {
      if (this.queueExpiries[current - this.base]! > now) return false;
      this.superseded++;
    }
    this.keys.set(key, this.base + this.queueKeys.length);
    this.queueKeys.push(key);
    this.queueExpiries.push(expiresAt);
    this.evict(now);
    return true;
  }

  private evict(now: number): void {
    const length = this.queueKeys.length;
    while (this.head < length) {
      if (this.keys.size <= this.limit && this.queueExpiries[this.head]! > now) break;
      const key = this.queueKeys[this.head]!;
      // A key claimed again after expiring has a newer claim further back; only that one removes it.
      if (this.superseded === 0) this.keys.delete(key);
      else if (this.keys.get(key) === this.base + this.head) this.keys.delete(key);
      else this.superseded--;
      this.head++;
    }
    if (this.head >= 4096 && this.head * 2 >= length) {
      this.queueKeys = this.queueKeys.slice(this.head);
      this.queueExpiries = this.queueExpiries.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
