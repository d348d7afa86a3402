import { Injectable } from '@nestjs/common';
import { inspect } from 'node:util';
import {
  CLOCK_SKEW_TOLERANCE_MS,
  isBackedOff,
  type NewStoredToken,
  type StoredToken,
  type StoredTokenChanges,
  type TokenRepository,
  type UpdateCondition,
} from './token-repository.interface.js';
import type { BatchedUpdate, ClaimRequest, TokenBatchOperations } from './token-batches.interface.js';

/**
 * Keeps tokens in this process's memory: fast and fine for tests and single
 * bots, but every token is gone when the process exits and nothing is shared
 * between processes. The module warns at startup when it is in use.
 */
@Injectable()
export class InMemoryTokenRepository implements TokenRepository, TokenBatchOperations {
  private readonly rows = new Map<string, StoredToken>();

  /** Inspection counts the stored tokens; it never prints them. */
  [inspect.custom](): string {
    return `InMemoryTokenRepository { tokens: ${this.rows.size} }`;
  }

  async get(userId: string): Promise<StoredToken | null> {
    return copyOf(this.rows.get(userId));
  }

  async findByIntent(intent: string): Promise<StoredToken | null> {
    for (const row of this.rows.values()) {
      if (row.intents.includes(intent)) return copyOf(row);
    }
    return null;
  }

  async list(): Promise<StoredToken[]> {
    return [...this.rows.values()].sort((a, b) => compareIds(a.userId, b.userId)).map((row) => copyOf(row)!);
  }

  async save(token: NewStoredToken): Promise<StoredToken> {
    const previous = this.rows.get(token.userId);
    const row: StoredToken = {
      ...token,
      scopes: [...token.scopes],
      intents: [...new Set([...(previous?.intents ?? []), ...token.intents])],
      retryAt: token.retryAt ?? 0,
      failureCount: token.failureCount ?? 0,
      version: (previous?.version ?? 0) + 1,
      leaseOwner: null,
      leaseExpiresAt: null,
    };
    this.takeIntents(row.userId, row.intents);
    this.rows.set(row.userId, row);
    return copyOf(row)!;
  }

  async update(userId: string, changes: StoredTokenChanges, condition: UpdateCondition = {}): Promise<StoredToken | null> {
    const row = this.rows.get(userId);
    if (!row) return null;
    if (condition.version !== undefined && row.version !== condition.version) return null;
    if (condition.leaseOwner !== undefined && row.leaseOwner !== condition.leaseOwner) return null;
    const next: StoredToken = { ...row, ...withoutUndefined(changes), userId, version: row.version + 1 };
    if (changes.leaseOwner === null) next.leaseExpiresAt = null;
    next.scopes = [...next.scopes];
    next.intents = [...next.intents];
    if (changes.intents) this.takeIntents(userId, next.intents);
    this.rows.set(userId, next);
    return copyOf(next);
  }

  async delete(userId: string): Promise<boolean> {
    return this.rows.delete(userId);
  }

  async acquireLease(userId: string, owner: string, until: number, now: number): Promise<StoredToken | null> {
    const row = this.rows.get(userId);
    if (!row) return null;
    const free = row.leaseOwner === null || row.leaseOwner === owner || (row.leaseExpiresAt ?? 0) <= now;
    if (!free) return null;
    row.leaseOwner = owner;
    row.leaseExpiresAt = until;
    return copyOf(row);
  }

  async releaseLease(userId: string, owner: string): Promise<void> {
    const row = this.rows.get(userId);
    if (row && row.leaseOwner === owner) {
      row.leaseOwner = null;
      row.leaseExpiresAt = null;
    }
  }

  async listDueForRefresh(expiringBefore: number, now: number, limit: number): Promise<StoredToken[]> {
    return this.dueForRefresh(expiringBefore, now, limit).map((row) => copyOf(row)!);
  }

  async listDueForValidation(validatedBefore: number, now: number, limit: number): Promise<StoredToken[]> {
    return this.dueForValidation(validatedBefore, now, limit).map((row) => copyOf(row)!);
  }

  /** The stored rows themselves (not copies), in due order. */
  private dueForRefresh(expiringBefore: number, now: number, limit: number): StoredToken[] {
    const due: StoredToken[] = [];
    for (const row of this.rows.values()) {
      if (
        row.status === 'valid' &&
        row.refreshToken !== null &&
        row.expiresAt !== null &&
        row.expiresAt <= expiringBefore &&
        !isBackedOff(row.retryAt, now)
      ) {
        due.push(row);
      }
    }
    return due.sort((a, b) => a.expiresAt! - b.expiresAt! || compareIds(a.userId, b.userId)).slice(0, limit);
  }

  /** The stored rows themselves (not copies), in due order. */
  private dueForValidation(validatedBefore: number, now: number, limit: number): StoredToken[] {
    const future = now + CLOCK_SKEW_TOLERANCE_MS;
    const fromTheFuture: StoredToken[] = [];
    const due: StoredToken[] = [];
    for (const row of this.rows.values()) {
      if (row.status !== 'valid' || isBackedOff(row.retryAt, now)) continue;
      const validatedAt = row.lastValidatedAt ?? 0;
      if (validatedAt > future) fromTheFuture.push(row);
      else if (validatedAt <= validatedBefore) due.push(row);
    }
    const oldestFirst = (a: StoredToken, b: StoredToken) =>
      (a.lastValidatedAt ?? 0) - (b.lastValidatedAt ?? 0) || compareIds(a.userId, b.userId);
    return [...fromTheFuture.sort(oldestFirst), ...due.sort(oldestFirst)].slice(0, limit);
  }

  async claimDueForRefresh(expiringBefore: number, request: ClaimRequest): Promise<StoredToken[]> {
    return this.leaseFree(this.dueForRefresh(expiringBefore, request.now, Number.MAX_SAFE_INTEGER), request);
  }

  async claimDueForValidation(validatedBefore: number, request: ClaimRequest): Promise<StoredToken[]> {
    return this.leaseFree(this.dueForValidation(validatedBefore, request.now, Number.MAX_SAFE_INTEGER), request);
  }

  async updateMany(writes: readonly BatchedUpdate[]): Promise<boolean[]> {
    const landed: boolean[] = [];
    for (const write of writes) landed.push((await this.update(write.userId, write.changes, write.condition)) !== null);
    return landed;
  }

  async releaseLeases(userIds: readonly string[], owner: string): Promise<void> {
    for (const userId of userIds) await this.releaseLease(userId, owner);
  }

  /** The first `limit` of `due` whose lease is free, leased to the claimant. */
  private leaseFree(due: StoredToken[], request: ClaimRequest): StoredToken[] {
    const claimed: StoredToken[] = [];
    for (const row of due) {
      if (claimed.length >= request.limit) break;
      if (row.leaseOwner !== null) continue;
      row.leaseOwner = request.owner;
      row.leaseExpiresAt = request.until;
      claimed.push(copyOf(row)!);
    }
    return claimed;
  }

  private takeIntents(userId: string, intents: readonly string[]): void {
    if (intents.length === 0) return;
    for (const other of this.rows.values()) {
      if (other.userId !== userId && other.intents.some((i) => intents.includes(i))) {
        other.intents = other.intents.filter((i) => !intents.includes(i));
        other.version += 1;
      }
    }
  }
}

function copyOf(row: StoredToken | undefined): StoredToken | null {
  return row ? { ...row, scopes: [...row.scopes], intents: [...row.intents] } : null;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  const defined: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] !== undefined) defined[key] = value[key];
  }
  return defined;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
