import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { InMemoryTokenRepository } from '../storage/in-memory-token.repository.js';
import { TokenRepository, type StoredToken } from '../storage/token-repository.interface.js';
import { TwitchTokenEntity } from '../storage/typeorm/twitch-token.entity.js';
import { TypeOrmTokenRepository } from '../storage/typeorm/typeorm-token.repository.js';

/** The instants (epoch ms) that make a token overdue, and where counting stops. */
export interface TokenBacklogQuery {
  /** Valid tokens last validated at or before this are overdue for validation... */
  validatedBefore: number;
  /** ...except never-validated ones obtained after this (the first tick has not had its chance yet). */
  neverValidatedObtainedBefore: number;
  /** Valid tokens with a refresh token expiring at or before this are overdue for refresh. */
  expiringBefore: number;
  /** Each count stops here. */
  limit: number;
}

/** The counts a `TokenBacklogCounter` answers, each at most `limit`. */
export interface TokenBacklogCounts {
  overdueValidation: number;
  overdueRefresh: number;
  /** Null when the storage has no cheap way to count them. */
  reauthRequired: number | null;
}

/**
 * Optional capability of a custom `TokenRepository`: implement `countBacklog`
 * on it and health checks count with your indexes. Without it, health checks
 * fall back to the due-queries with a limit, and cannot count `reauth_required`.
 */
export interface TokenBacklogCounter {
  countBacklog(query: TokenBacklogQuery): Promise<TokenBacklogCounts>;
}

/** Whether a repository implements the optional `TokenBacklogCounter`. */
export function isTokenBacklogCounter(repository: unknown): repository is TokenBacklogCounter {
  return typeof (repository as Partial<TokenBacklogCounter> | null)?.countBacklog === 'function';
}

/**
 * Counts overdue tokens with the cheapest means the storage offers: the
 * repository's own `countBacklog`, index range counts on the TypeORM table,
 * a pass over the in-memory map, or else the due-queries with a limit.
 */
@Injectable()
export class TokenBacklogReader {
  private readonly counter: TokenBacklogCounter;

  constructor(@Inject(TokenRepository) repository: TokenRepository, @Optional() @InjectDataSource() dataSource?: DataSource) {
    if (isTokenBacklogCounter(repository)) this.counter = repository;
    else if (repository instanceof TypeOrmTokenRepository && dataSource?.hasMetadata(TwitchTokenEntity))
      this.counter = new TypeOrmBacklogCounter(dataSource);
    else if (repository instanceof InMemoryTokenRepository) this.counter = new ListBacklogCounter(repository);
    else this.counter = new DueQueryBacklogCounter(repository);
  }

  /** The counts for `query`. */
  count(query: TokenBacklogQuery): Promise<TokenBacklogCounts> {
    return this.counter.countBacklog(query);
  }
}

/** One bounded range read per count, each on an index whose leading column is `status`. */
class TypeOrmBacklogCounter implements TokenBacklogCounter {
  constructor(private readonly dataSource: DataSource) {}

  async countBacklog(query: TokenBacklogQuery): Promise<TokenBacklogCounts> {
    const select = () =>
      this.dataSource.getRepository(TwitchTokenEntity).createQueryBuilder('t').select('t.userId', 'id').limit(query.limit);
    const [validation, refresh, reauth] = await Promise.all([
      select()
        .where('t.status = :status', { status: 'valid' })
        .andWhere('t.lastValidatedAt <= :validatedBefore', { validatedBefore: query.validatedBefore })
        .andWhere('(t.lastValidatedAt > 0 OR t.obtainedAt <= :obtainedBefore)', { obtainedBefore: query.neverValidatedObtainedBefore })
        .getRawMany(),
      select()
        .where('t.status = :status', { status: 'valid' })
        .andWhere('t.expiresAt <= :expiringBefore', { expiringBefore: query.expiringBefore })
        .andWhere('t.refreshToken IS NOT NULL')
        .getRawMany(),
      select().where('t.status = :status', { status: 'reauth_required' }).getRawMany(),
    ]);
    return { overdueValidation: validation.length, overdueRefresh: refresh.length, reauthRequired: reauth.length };
  }
}

/** For the in-memory repository, whose `list()` is a copy of a map in this process. */
class ListBacklogCounter implements TokenBacklogCounter {
  constructor(private readonly repository: TokenRepository) {}

  async countBacklog(query: TokenBacklogQuery): Promise<TokenBacklogCounts> {
    const rows = await this.repository.list();
    const count = (test: (row: StoredToken) => boolean) => Math.min(query.limit, rows.filter(test).length);
    return {
      overdueValidation: count((row) => row.status === 'valid' && overdueForValidation(row, query)),
      overdueRefresh: count(
        (row) => row.status === 'valid' && row.refreshToken !== null && row.expiresAt !== null && row.expiresAt <= query.expiringBefore,
      ),
      reauthRequired: count((row) => row.status === 'reauth_required'),
    };
  }
}

/** Any repository: the contract's due-queries, with backed-off tokens included (an unreachable Twitch makes them overdue too). */
class DueQueryBacklogCounter implements TokenBacklogCounter {
  constructor(private readonly repository: TokenRepository) {}

  async countBacklog(query: TokenBacklogQuery): Promise<TokenBacklogCounts> {
    const [validation, refresh] = await Promise.all([
      this.repository.listDueForValidation(query.validatedBefore, Number.MAX_SAFE_INTEGER, query.limit),
      this.repository.listDueForRefresh(query.expiringBefore, Number.MAX_SAFE_INTEGER, query.limit),
    ]);
    return {
      overdueValidation: validation.filter((row) => overdueForValidation(row, query)).length,
      overdueRefresh: refresh.length,
      reauthRequired: null,
    };
  }
}

function overdueForValidation(row: StoredToken, query: TokenBacklogQuery): boolean {
  const last = row.lastValidatedAt ?? 0;
  if (last > query.validatedBefore) return false;
  return last > 0 || row.obtainedAt <= query.neverValidatedObtainedBefore;
}
