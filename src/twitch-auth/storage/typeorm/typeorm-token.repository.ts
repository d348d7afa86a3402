import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CLOCK_SKEW_TOLERANCE_MS,
  MAX_RETRY_DELAY_MS,
  type NewStoredToken,
  type StoredToken,
  type StoredTokenChanges,
  type TokenRepository,
  type UpdateCondition,
} from '../token-repository.interface.js';
import type { BatchedUpdate, ClaimRequest, TokenBatchOperations } from '../token-batches.interface.js';
import { writeWithIntents } from './intent-assignment.js';
import { claimRows, releaseRows, updateRows, updateRowsAtomically, type DueScan } from './token-batch.statements.js';
import { columnsOfChanges, columnsOfNewToken, distinct, toStoredToken } from './token-row.mapper.js';
import { insertToken, loadToken, selectTokens, updateToken } from './token-row.statements.js';
import { LostRaceError, TransactionRunner } from './transaction-runner.js';
import { TwitchTokenIntentEntity } from './twitch-token-intent.entity.js';
import { TwitchTokenEntity } from './twitch-token.entity.js';

/** See `isBackedOff`: a `retryAt` beyond any real backoff was written under a clock that ran fast. */
const NOT_BACKED_OFF = '(t.retryAt <= :now OR t.retryAt > :retryHorizon)';

function notBackedOff(now: number): { now: number; retryHorizon: number } {
  return { now, retryHorizon: now + MAX_RETRY_DELAY_MS + CLOCK_SKEW_TOLERANCE_MS };
}

/**
 * Keeps tokens in the application's TypeORM DataSource (SQLite or Postgres),
 * so they survive restarts and several processes can share them. Every method
 * is atomic across processes: leases and compare-and-set are single
 * conditional UPDATEs whose affected-row count decides the winner.
 *
 * Register `twitchAuthEntities` and `twitchAuthMigrations` in the DataSource.
 * Do not enable TypeORM query logging in production: it prints parameters,
 * and parameters here are tokens.
 */
@Injectable()
export class TypeOrmTokenRepository implements TokenRepository, TokenBatchOperations {
  private readonly runner: TransactionRunner;
  private readonly postgres: boolean;

  /** Works with Nest's injected default DataSource or one passed by hand. */
  constructor(@InjectDataSource() dataSource: DataSource) {
    this.runner = new TransactionRunner(dataSource);
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** The user's token, or null. */
  get(userId: string): Promise<StoredToken | null> {
    return this.runner.statement('get', (m) => loadToken(m, userId));
  }

  /** Served from the intents table's primary key, joined to the token in one statement. */
  findByIntent(intent: string): Promise<StoredToken | null> {
    return this.runner.statement('findByIntent', async (m) => {
      const row = await selectTokens(m)
        .innerJoin(TwitchTokenIntentEntity, 'i', 'i.userId = t.userId')
        .where('i.intent = :intent', { intent })
        .getOne();
      return row ? toStoredToken(row) : null;
    });
  }

  /** All tokens ordered by userId (the database's collation). */
  list(): Promise<StoredToken[]> {
    return this.runner.statement('list', async (m) => {
      const rows = await selectTokens(m).orderBy('t.userId', 'ASC').getMany();
      return rows.map(toStoredToken);
    });
  }

  /**
   * Update-or-insert in one transaction. The intents the row holds are read
   * in it and the update is conditioned on the version read, so a concurrent
   * write (an intent moved away bumps the version) makes the attempt start
   * over instead of taking that intent back. Two processes inserting the same
   * new user collide on the primary key; the loser retries and becomes an
   * update, so neither fails and `version` counts both.
   */
  save(token: NewStoredToken): Promise<StoredToken> {
    const { userId } = token;
    const columns = columnsOfNewToken(token);
    const bookkeeping = { leaseOwner: null, leaseExpiresAt: null };
    return this.runner.transaction('save', async (m) => {
      const before = await loadToken(m, userId);
      const intents = distinct([...(before?.intents ?? []), ...token.intents]);
      await writeWithIntents(m, userId, intents, async () => {
        if (!before) {
          await insertToken(m, { userId, ...columns, intents, ...bookkeeping, version: 1 });
        } else if (!(await updateToken(m, userId, { ...columns, intents, ...bookkeeping }, { version: before.version }))) {
          throw new LostRaceError('the token changed while it was being saved');
        }
        return true;
      });
      return (await loadToken(m, userId))!;
    });
  }

  /** Compare-and-set: the conditions sit in the UPDATE's WHERE, so no other write can slip between check and write. */
  update(userId: string, changes: StoredTokenChanges, condition: UpdateCondition = {}): Promise<StoredToken | null> {
    const columns = columnsOfChanges(changes);
    return this.runner.transaction('update', async (m) => {
      const written = await writeWithIntents(m, userId, columns.intents, () => updateToken(m, userId, columns, condition));
      return written ? loadToken(m, userId) : null;
    });
  }

  /** Removes the token and the intents it served. */
  delete(userId: string): Promise<boolean> {
    return this.runner.transaction('delete', async (m) => {
      const result = await m.createQueryBuilder().delete().from(TwitchTokenEntity).where('user_id = :userId', { userId }).execute();
      // The foreign key cascades too; this covers SQLite connections opened without `PRAGMA foreign_keys`.
      await m.createQueryBuilder().delete().from(TwitchTokenIntentEntity).where('user_id = :userId', { userId }).execute();
      return (result.affected ?? 0) > 0;
    });
  }

  /** One conditional UPDATE takes the lease; the row is read back in the same transaction, still locked. */
  acquireLease(userId: string, owner: string, until: number, now: number): Promise<StoredToken | null> {
    return this.runner.transaction('acquireLease', async (m) => {
      const result = await m
        .createQueryBuilder()
        .update(TwitchTokenEntity)
        .set({ leaseOwner: owner, leaseExpiresAt: until })
        .where('user_id = :userId', { userId })
        .andWhere('(lease_owner IS NULL OR lease_owner = :owner OR lease_expires_at IS NULL OR lease_expires_at <= :now)', { owner, now })
        .updateEntity(false)
        .execute();
      return (result.affected ?? 0) > 0 ? loadToken(m, userId) : null;
    });
  }

  /** A no-op unless `owner` holds the lease. */
  async releaseLease(userId: string, owner: string): Promise<void> {
    await this.runner.statement('releaseLease', (m) =>
      m
        .createQueryBuilder()
        .update(TwitchTokenEntity)
        .set({ leaseOwner: null, leaseExpiresAt: null })
        .where('user_id = :userId AND lease_owner = :owner', { userId, owner })
        .updateEntity(false)
        .execute(),
    );
  }

  /** A range scan of `(status, expires_at, user_id)`; the other filters are checked on the rows it visits. */
  listDueForRefresh(expiringBefore: number, now: number, limit: number): Promise<StoredToken[]> {
    return this.runner.statement('listDueForRefresh', async (m) => {
      const rows = await refreshScan(expiringBefore, now)(m).limit(limit).getMany();
      return rows.map(toStoredToken);
    });
  }

  /**
   * Two range scans of `(status, last_validated_at, user_id)`: first rows
   * stamped in the future (a clock that ran fast), then the due ones;
   * never-validated rows hold 0 and so come first among those.
   */
  listDueForValidation(validatedBefore: number, now: number, limit: number): Promise<StoredToken[]> {
    return this.runner.statement('listDueForValidation', async (m) => {
      const [future, due] = validationScans(validatedBefore, now);
      const early = await future(m).limit(limit).getMany();
      const rest =
        early.length < limit
          ? await due(m)
              .limit(limit - early.length)
              .getMany()
          : [];
      return [...early, ...rest].map(toStoredToken);
    });
  }

  /** The refresh due-query with `FOR UPDATE SKIP LOCKED` (Postgres) and the leases written in the same transaction. */
  claimDueForRefresh(expiringBefore: number, request: ClaimRequest): Promise<StoredToken[]> {
    return this.runner.transaction('claimDueForRefresh', (m) =>
      claimRows(m, this.postgres, [refreshScan(expiringBefore, request.now)], request),
    );
  }

  /** The validation due-queries, claimed like `claimDueForRefresh`. */
  claimDueForValidation(validatedBefore: number, request: ClaimRequest): Promise<StoredToken[]> {
    return this.runner.transaction('claimDueForValidation', (m) =>
      claimRows(m, this.postgres, validationScans(validatedBefore, request.now), request),
    );
  }

  /**
   * Postgres: one statement per batch that locks, checks and writes. SQLite:
   * one transaction, a read of the rows' versions and leases, then one UPDATE
   * for those whose conditions hold.
   */
  updateMany(writes: readonly BatchedUpdate[]): Promise<boolean[]> {
    if (writes.length === 0) return Promise.resolve([]);
    if (this.postgres) return this.runner.statement('updateMany', (m) => updateRowsAtomically(m, writes));
    return this.runner.transaction('updateMany', (m) => updateRows(m, writes));
  }

  /** One UPDATE per thousand users. */
  async releaseLeases(userIds: readonly string[], owner: string): Promise<void> {
    if (userIds.length === 0) return;
    await this.runner.statement('releaseLeases', (m) => releaseRows(m, userIds, owner));
  }
}

/** Valid, refreshable tokens expiring by `expiringBefore`, not backed off, soonest first. */
function refreshScan(expiringBefore: number, now: number): DueScan {
  return (m) =>
    selectTokens(m)
      .where('t.status = :status', { status: 'valid' })
      .andWhere('t.expiresAt <= :expiringBefore', { expiringBefore })
      .andWhere('t.refreshToken IS NOT NULL')
      .andWhere(NOT_BACKED_OFF, notBackedOff(now))
      .orderBy('t.expiresAt', 'ASC')
      .addOrderBy('t.userId', 'ASC');
}

/** Rows stamped in the future, then rows validated by `validatedBefore`; not backed off, oldest first. */
function validationScans(validatedBefore: number, now: number): [DueScan, DueScan] {
  const scan =
    (range: string, bound: Record<string, number>): DueScan =>
    (m) =>
      selectTokens(m)
        .where('t.status = :status', { status: 'valid' })
        .andWhere(range, bound)
        .andWhere(NOT_BACKED_OFF, notBackedOff(now))
        .orderBy('t.lastValidatedAt', 'ASC')
        .addOrderBy('t.userId', 'ASC');
  return [
    scan('t.lastValidatedAt > :future', { future: now + CLOCK_SKEW_TOLERANCE_MS }),
    scan('t.lastValidatedAt <= :validatedBefore', { validatedBefore }),
  ];
}
