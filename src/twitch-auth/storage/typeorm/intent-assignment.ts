import { In, Not } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { loadToken, lockToken, updateToken } from './token-row.statements.js';
import { LostRaceError } from './transaction-runner.js';
import { TwitchTokenIntentEntity } from './twitch-token-intent.entity.js';

/**
 * Runs `writeOwnRow` (the write of `userId`'s row; false = it did not
 * happen) and, when `intents` is given, makes them exactly the intents
 * `userId` serves, taking them from their previous holders.
 *
 * Deadlock-free on Postgres by ordering: every token row involved is locked
 * in ascending userId order (the own row by its write, holders by a no-op
 * update) before any intent row is touched, and intent rows are then
 * replaced key by key in sorted order. A holder that appeared after the rows
 * were locked would need an out-of-order lock, so the transaction is retried
 * instead.
 */
export async function writeWithIntents(
  m: EntityManager,
  userId: string,
  intents: readonly string[] | undefined,
  writeOwnRow: () => Promise<boolean>,
): Promise<boolean> {
  if (intents === undefined) return writeOwnRow();
  const holders = await holdersOf(m, userId, intents);
  const locked = new Set<string>();
  for (const user of [...new Set([userId, ...holders])].sort()) {
    if (user === userId) {
      if (!(await writeOwnRow())) return false;
    } else if (await lockToken(m, user)) {
      locked.add(user);
    }
  }
  // Read again now that rows are locked: only holders we hold may lose intents.
  const lockedHolders = await holdersOf(m, userId, intents);
  if (lockedHolders.some((holder) => !locked.has(holder))) throw new LostRaceError('intent holders changed while locking');

  await m.createQueryBuilder().delete().from(TwitchTokenIntentEntity).where('user_id = :userId', { userId }).execute();
  for (const holder of lockedHolders) await dropFromTokenRow(m, holder, intents);
  // Key by key in sorted order: the previous holder's row goes, ours comes.
  for (const intent of [...intents].sort()) {
    if (lockedHolders.length > 0) {
      await m
        .createQueryBuilder()
        .delete()
        .from(TwitchTokenIntentEntity)
        .where('intent = :intent AND user_id IN (:...lockedHolders)', { intent, lockedHolders })
        .execute();
    }
    await m.createQueryBuilder().insert().into(TwitchTokenIntentEntity).values({ intent, userId }).updateEntity(false).execute();
  }
  return true;
}

/** Other users currently serving any of `intents`, ascending. */
async function holdersOf(m: EntityManager, userId: string, intents: readonly string[]): Promise<string[]> {
  if (intents.length === 0) return [];
  const rows = await m.getRepository(TwitchTokenIntentEntity).findBy({ intent: In([...intents]), userId: Not(userId) });
  return [...new Set(rows.map((row) => row.userId))].sort();
}

/** Removes `intents` from a (locked) holder's copy in its token row, bumping its version. */
async function dropFromTokenRow(m: EntityManager, holder: string, intents: readonly string[]): Promise<void> {
  const token = await loadToken(m, holder);
  if (token) await updateToken(m, holder, { intents: token.intents.filter((intent) => !intents.includes(intent)) });
}
