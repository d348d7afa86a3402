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
 * SQLite: every write as `update` would make it, inside the caller's
 * transaction (whose `BEGIN IMMEDIATE` holds the write lock throughout), in
 * two statements per batch: the rows are read to decide which conditions
 * hold, then those rows get their own values through one UPDATE with a CASE
 * per column. Lists are stored as JSON text, as the entity's transformer
 * stores them.
 */
export async function updateRows(m: EntityManager, writes: readonly BatchedUpdate[]): Promise<boolean[]> {
  const { landed, chunks, writeOf, markLanded } = planWrites(writes);
  for (const chunk of chunks) {
    const sql = new SqlBuilder(false);
    const current = (await m.query(
      `SELECT user_id, version, lease_owner FROM twitch_tokens WHERE user_id IN (${chunk.map((id) => sql.param(id)).join(', ')})`,
      sql.parameters,
    )) as { user_id: string; version: number | string; lease_owner: string | null }[];
    const passing = current.filter((row) => {
      const { condition } = writeOf(row.user_id);
      if (condition.version !== undefined && Number(row.version) !== condition.version) return false;
      return condition.leaseOwner === undefined || row.lease_owner === condition.leaseOwner;
    });
    if (passing.length === 0) continue;
    const update = new SqlBuilder(false);
    const set = assignments(
      update,
      passing.map((row) => writeOf(row.user_id)),
    );
    await m.query(
      `UPDATE twitch_tokens SET ${set} WHERE user_id IN (${passing.map((row) => update.param(row.user_id)).join(', ')})`,
      update.parameters,
    );
    for (const row of passing) markLanded(row.user_id);
  }
  return landed;
}

/**
 * Postgres: the same writes in one statement per batch, atomic on its own,
 * so without a transaction around it (one round trip instead of four). The
 * rows whose conditions hold are locked in user-id order, as every batch
 * locks them, so two batches never wait on each other in a circle; a row a
 * concurrent writer changed is checked again once its lock is free (Read
 * Committed re-reads it), so a condition that stopped holding drops it.
 * Each locked row gets its own values; RETURNING names those that landed.
 */
export async function updateRowsAtomically(m: EntityManager, writes: readonly BatchedUpdate[]): Promise<boolean[]> {
  const { landed, chunks, writeOf, markLanded } = planWrites(writes);
  for (const chunk of chunks) {
    const sql = new SqlBuilder(true);
    const values = chunk.map((userId) => {
      const { condition } = writeOf(userId);
      return `(CAST(${sql.param(userId)} AS VARCHAR), CAST(${sql.param(condition.version ?? null)} AS INTEGER), CAST(${sql.param(condition.leaseOwner ?? null)} AS VARCHAR))`;
    });
    const set = assignments(
      sql,
      chunk.map((userId) => writeOf(userId)),
    );
    const written = (await m.query(
      `WITH w (user_id, version, lease_owner) AS (VALUES ${values.join(', ')}), ` +
        `locked AS (SELECT t.user_id FROM twitch_tokens t JOIN w ON w.user_id = t.user_id ` +
        `WHERE (w.version IS NULL OR t.version = w.version) AND (w.lease_owner IS NULL OR t.lease_owner = w.lease_owner) ` +
        `ORDER BY t.user_id FOR UPDATE OF t), ` +
        `written AS (UPDATE twitch_tokens SET ${set} WHERE user_id IN (SELECT user_id FROM locked) RETURNING user_id) ` +
        // A SELECT at the top, so every driver version hands back the rows as rows.
        `SELECT user_id FROM written`,
      sql.parameters,
    )) as { user_id: string }[];
    for (const row of written) markLanded(row.user_id);
  }
  return landed;
}

/** The writes' users in chunks of one statement each, the last write of each user (a group holds one per user). */
function planWrites(writes: readonly BatchedUpdate[]) {
  const byUser = new Map<string, number>();
  writes.forEach((write, index) => byUser.set(write.userId, index));
  const ids = [...byUser.keys()].sort(compareIds);
  const chunks: string[][] = [];
  for (let from = 0; from < ids.length; from += WRITES_PER_STATEMENT) chunks.push(ids.slice(from, from + WRITES_PER_STATEMENT));
  const landed = new Array<boolean>(writes.length).fill(false);
  return {
    landed,
    chunks,
    writeOf: (userId: string) => writes[byUser.get(userId)!]!,
    markLanded: (userId: string) => {
      landed[byUser.get(userId)!] = true;
    },
  };
}

/** The SET list giving each row its own values: `col = CASE user_id WHEN ... THEN ... ELSE col END` for every column any write sets. */
function assignments(sql: SqlBuilder, writes: readonly BatchedUpdate[]): string {
  const perWrite = writes.map((write) => columnsOfChanges(write.changes));
  const properties = new Set<keyof TokenColumns>();
  for (const columns of perWrite) for (const key of Object.keys(columns) as (keyof TokenColumns)[]) properties.add(key);
  const cases = [...properties].map((property) => {
    const [column, type] = COLUMNS[property];
    const branches = writes
      .map((write, index) => [write.userId, perWrite[index]!] as const)
      .filter(([, columns]) => property in columns)
      .map(([userId, columns]) => `WHEN ${sql.param(userId)} THEN CAST(${sql.param(storedValue(columns[property]))} AS ${type})`);
    return `${column} = CASE user_id ${branches.join(' ')} ELSE ${column} END`;
  });
  return [...cases, 'version = version + 1'].join(', ');
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
