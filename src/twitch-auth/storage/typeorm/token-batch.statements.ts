import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import type { BatchedUpdate, ClaimRequest } from '../token-batches.interface.js';
import type { StoredToken } from '../token-repository.interface.js';
import { columnsOfChanges, toStoredToken, type TokenColumns } from './token-row.mapper.js';
import { TwitchTokenEntity } from './twitch-token.entity.js';

/** Ids per `IN (...)` list: far below SQLite's and Postgres's parameter limits. */
const IDS_PER_STATEMENT = 1000;
/** Rows per batched UPDATE: two parameters per column and row, inside SQLite's 32,766. */
const WRITES_PER_STATEMENT = 500;

/** A due-query over `twitch_tokens` aliased `t`, before its lease filter, order and limit. */
export type DueScan = (m: EntityManager) => SelectQueryBuilder<TwitchTokenEntity>;

/**
 * Leases the rows `scans` find, in order, to the claimant, inside the
 * caller's transaction. On Postgres the select skips rows another claim has
 * locked (`FOR UPDATE SKIP LOCKED`), so concurrent claims take disjoint
 * rows without waiting; SQLite's write lock (taken by `BEGIN IMMEDIATE`)
 * serializes claims instead. Only free leases are taken: a lease held by
 * anyone, this owner included, means the row is being worked on.
 */
export async function claimRows(m: EntityManager, postgres: boolean, scans: DueScan[], request: ClaimRequest): Promise<StoredToken[]> {
  const claimed: TwitchTokenEntity[] = [];
  for (const scan of scans) {
    const take = request.limit - claimed.length;
    if (take <= 0) break;
    const query = scan(m).andWhere('t.leaseOwner IS NULL').limit(take);
    if (postgres) query.setLock('pessimistic_write').setOnLocked('skip_locked');
    claimed.push(...(await query.getMany()));
  }
  const ids = claimed.map((row) => row.userId);
  for (let from = 0; from < ids.length; from += IDS_PER_STATEMENT) {
    await m
      .createQueryBuilder()
      .update(TwitchTokenEntity)
      .set({ leaseOwner: request.owner, leaseExpiresAt: request.until })
      .where('user_id IN (:...ids)', { ids: ids.slice(from, from + IDS_PER_STATEMENT) })
      .andWhere('lease_owner IS NULL')
      .updateEntity(false)
      .execute();
  }
  return claimed.map((row) => ({ ...toStoredToken(row), leaseOwner: request.owner, leaseExpiresAt: request.until }));
}

/** Where each changeable property lives, and the SQL type its parameter is cast to (CASE results need one on Postgres). */
const COLUMNS: { [K in keyof TokenColumns]-?: [column: string, type: 'VARCHAR' | 'TEXT' | 'BIGINT' | 'INTEGER'] } = {
  login: ['login', 'VARCHAR'],
  accessToken: ['access_token', 'TEXT'],
  refreshToken: ['refresh_token', 'TEXT'],
  scopes: ['scopes', 'TEXT'],
  intents: ['intents', 'TEXT'],
  expiresAt: ['expires_at', 'BIGINT'],
  obtainedAt: ['obtained_at', 'BIGINT'],
  lastValidatedAt: ['last_validated_at', 'BIGINT'],
  status: ['status', 'VARCHAR'],
  retryAt: ['retry_at', 'BIGINT'],
  failureCount: ['failure_count', 'INTEGER'],
  leaseOwner: ['lease_owner', 'VARCHAR'],
  leaseExpiresAt: ['lease_expires_at', 'BIGINT'],
};

/**
 * Every write as `update` would make it, inside the caller's transaction, in
 * two statements per thousand rows whatever their number: the rows are read
 * (and, on Postgres, locked, in user-id order) to decide which conditions
 * hold, then those rows get their own values through one UPDATE with a CASE
 * per column. SQLite's write lock, or Postgres's row locks, keep any other
 * write out between the two. Lists are stored as JSON text, as the entity's
 * transformer stores them.
 */
export async function updateRows(m: EntityManager, postgres: boolean, writes: readonly BatchedUpdate[]): Promise<boolean[]> {
  const landed = new Array<boolean>(writes.length).fill(false);
  const byUser = new Map<string, number>();
  writes.forEach((write, index) => byUser.set(write.userId, index));
  const ids = [...byUser.keys()].sort(compareIds);
  for (let from = 0; from < ids.length; from += WRITES_PER_STATEMENT) {
    const chunk = ids.slice(from, from + WRITES_PER_STATEMENT);
    const sql = new SqlBuilder(postgres);
    const current = (await m.query(
      `SELECT user_id, version, lease_owner FROM twitch_tokens WHERE user_id IN (${chunk.map((id) => sql.param(id)).join(', ')}) ORDER BY user_id${postgres ? ' FOR UPDATE' : ''}`,
      sql.parameters,
    )) as { user_id: string; version: number | string; lease_owner: string | null }[];
    const passing = current.filter((row) => {
      const { condition } = writes[byUser.get(row.user_id)!]!;
      if (condition.version !== undefined && Number(row.version) !== condition.version) return false;
      return condition.leaseOwner === undefined || row.lease_owner === condition.leaseOwner;
    });
    if (passing.length === 0) continue;
    await m.query(
      ...updateStatement(
        postgres,
        passing.map((row) => writes[byUser.get(row.user_id)!]!),
      ),
    );
    for (const row of passing) landed[byUser.get(row.user_id)!] = true;
  }
  return landed;
}

/** One UPDATE giving each row its own values: `col = CASE user_id WHEN ... THEN ... ELSE col END` for every column any write sets. */
function updateStatement(postgres: boolean, writes: readonly BatchedUpdate[]): [string, unknown[]] {
  const sql = new SqlBuilder(postgres);
  const perWrite = writes.map((write) => columnsOfChanges(write.changes));
  const properties = new Set<keyof TokenColumns>();
  for (const columns of perWrite) for (const key of Object.keys(columns) as (keyof TokenColumns)[]) properties.add(key);
  const assignments = [...properties].map((property) => {
    const [column, type] = COLUMNS[property];
    const cases = writes
      .map((write, index) => [write.userId, perWrite[index]!] as const)
      .filter(([, columns]) => property in columns)
      .map(([userId, columns]) => `WHEN ${sql.param(userId)} THEN CAST(${sql.param(storedValue(columns[property]))} AS ${type})`);
    return `${column} = CASE user_id ${cases.join(' ')} ELSE ${column} END`;
  });
  const ids = writes.map((write) => sql.param(write.userId)).join(', ');
  return [`UPDATE twitch_tokens SET ${assignments.join(', ')}, version = version + 1 WHERE user_id IN (${ids})`, sql.parameters];
}

/** A column value as the driver takes it: string lists as the JSON text the entity stores. */
function storedValue(value: unknown): unknown {
  return Array.isArray(value) ? JSON.stringify(value) : value;
}

/** Numbered (`$1`, Postgres) or positional (`?`, SQLite) parameters for hand-written statements. */
class SqlBuilder {
  readonly parameters: unknown[] = [];

  constructor(private readonly postgres: boolean) {}

  param(value: unknown): string {
    this.parameters.push(value);
    return this.postgres ? `$${this.parameters.length}` : '?';
  }
}

/** Clears the leases `owner` holds among `userIds`, a list per statement. */
export async function releaseRows(m: EntityManager, userIds: readonly string[], owner: string): Promise<void> {
  for (let from = 0; from < userIds.length; from += IDS_PER_STATEMENT) {
    await m
      .createQueryBuilder()
      .update(TwitchTokenEntity)
      .set({ leaseOwner: null, leaseExpiresAt: null })
      .where('user_id IN (:...ids)', { ids: userIds.slice(from, from + IDS_PER_STATEMENT) })
      .andWhere('lease_owner = :owner', { owner })
      .updateEntity(false)
      .execute();
  }
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
