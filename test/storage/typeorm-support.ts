import type { DataSource, Logger } from 'typeorm';
import { TwitchTokenEntity } from '../../src/twitch-auth/storage/typeorm/twitch-token.entity.js';
import type { TypeOrmTokenRepository } from '../../src/twitch-auth/storage/typeorm/typeorm-token.repository.js';
import { T0 } from './token-fixtures.js';

/** One statement as the driver received it. */
export interface CapturedQuery {
  sql: string;
  parameters: unknown[];
}

/**
 * Records the statements a DataSource sends, so a test can EXPLAIN the
 * repository's real due-queries instead of a hand-written copy of them.
 */
export class CapturingLogger implements Logger {
  readonly queries: CapturedQuery[] = [];
  logQuery(sql: string, parameters: unknown[] = []): void {
    this.queries.push({ sql, parameters });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

export const SEEDED_ROWS = 5_000;
const MINUTE = 60_000;

/**
 * Fills the table like a large deployment: a few percent of the tokens are
 * due at any time, some are dead, some never validated. With statistics
 * gathered afterwards, a planner that can use the indexes will.
 */
export async function seedTokens(dataSource: DataSource, count = SEEDED_ROWS): Promise<void> {
  const rows = Array.from({ length: count }, (_, i) => ({
    userId: `seed-${String(i).padStart(6, '0')}`,
    login: `seed_${i}`,
    accessToken: `access-${i}`,
    refreshToken: i % 7 === 0 ? null : `refresh-${i}`,
    scopes: ['chat:read'],
    intents: [],
    expiresAt: T0 + ((i * 7919) % count) * MINUTE,
    obtainedAt: T0,
    lastValidatedAt: i % 250 === 0 ? 0 : T0 - ((i * 104729) % count) * MINUTE,
    status: i % 10 === 0 ? ('reauth_required' as const) : ('valid' as const),
    retryAt: i % 13 === 0 ? T0 + MINUTE : 0,
    failureCount: 0,
    version: 1,
    leaseOwner: null,
    leaseExpiresAt: null,
  }));
  for (let start = 0; start < rows.length; start += 250) {
    await dataSource
      .createQueryBuilder()
      .insert()
      .into(TwitchTokenEntity)
      .values(rows.slice(start, start + 250))
      .updateEntity(false)
      .execute();
  }
  await dataSource.query('ANALYZE');
}

/** The SELECTs the repository issues for both due-queries, with their parameters. */
export async function captureDueQueries(
  repository: TypeOrmTokenRepository,
  logger: CapturingLogger,
): Promise<{ refresh: CapturedQuery; validation: CapturedQuery }> {
  const lastSelect = (): CapturedQuery => {
    const found = logger.queries.filter((q) => /^\s*SELECT/i.test(q.sql) && q.sql.includes('twitch_tokens')).at(-1);
    if (!found) throw new Error('the repository sent no SELECT');
    return found;
  };
  const refreshDue = await repository.listDueForRefresh(T0 + 30 * MINUTE, T0, 100);
  expect(refreshDue.length).toBeGreaterThan(0);
  const refresh = lastSelect();
  const validationDue = await repository.listDueForValidation(T0 - (SEEDED_ROWS - 40) * MINUTE, T0, 100);
  expect(validationDue.length).toBeGreaterThan(0);
  return { refresh, validation: lastSelect() };
}

/** Fails when the entities and the migrated schema differ (a migration someone forgot to write). */
export async function expectSchemaMatchesEntities(dataSource: DataSource): Promise<void> {
  const pending = await dataSource.driver.createSchemaBuilder().log();
  expect(pending.upQueries.map((q) => q.query)).toEqual([]);
}

/** Runs every migration's `down`, newest first, so the test can see the schema go away completely. */
export async function undoAllMigrations(dataSource: DataSource): Promise<void> {
  for (let i = 0; i < dataSource.migrations.length; i += 1) await dataSource.undoLastMigration();
}
