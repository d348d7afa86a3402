import type { EntityManager } from 'typeorm';
import type { StoredToken, UpdateCondition } from '../token-repository.interface.js';
import { toStoredToken } from './token-row.mapper.js';
import type { TokenColumns } from './token-row.mapper.js';
import { TwitchTokenEntity } from './twitch-token.entity.js';

/** A select over `twitch_tokens` aliased `t`. */
export function selectTokens(m: EntityManager) {
  return m.getRepository(TwitchTokenEntity).createQueryBuilder('t');
}

/** The user's row as a record, or null. */
export async function loadToken(m: EntityManager, userId: string): Promise<StoredToken | null> {
  const row = await m.getRepository(TwitchTokenEntity).findOneBy({ userId });
  return row ? toStoredToken(row) : null;
}

/**
 * Writes `columns` and bumps `version` if the row exists and `condition`
 * holds, as one statement; true when it did. On Postgres the row stays
 * locked until commit, so what the transaction reads back is its own write.
 */
export async function updateToken(
  m: EntityManager,
  userId: string,
  columns: TokenColumns,
  condition: UpdateCondition = {},
): Promise<boolean> {
  const query = m
    .createQueryBuilder()
    .update(TwitchTokenEntity)
    .set({ ...columns, version: () => 'version + 1' })
    .where('user_id = :userId', { userId })
    .updateEntity(false);
  if (condition.version !== undefined) query.andWhere('version = :expectedVersion', { expectedVersion: condition.version });
  if (condition.leaseOwner !== undefined) query.andWhere('lease_owner = :expectedOwner', { expectedOwner: condition.leaseOwner });
  const result = await query.execute();
  return (result.affected ?? 0) > 0;
}

/** Inserts a new user's row. */
export async function insertToken(m: EntityManager, row: TokenColumns & { userId: string; version: number }): Promise<void> {
  await m.createQueryBuilder().insert().into(TwitchTokenEntity).values(row).updateEntity(false).execute();
}

/** Locks the user's row until commit (Postgres) without changing it; false when there is no row to lock. */
export async function lockToken(m: EntityManager, userId: string): Promise<boolean> {
  const result = await m
    .createQueryBuilder()
    .update(TwitchTokenEntity)
    .set({ version: () => 'version' })
    .where('user_id = :userId', { userId })
    .updateEntity(false)
    .execute();
  return (result.affected ?? 0) > 0;
}
