import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from '../../src/twitch-auth/storage/typeorm/database-url.js';
import { initializeTwitchAuthDataSource, MIGRATIONS_ADVISORY_LOCK_KEY, runMigrationsExclusively } from '../../src/twitch-auth/index.js';
import { TypeOrmTokenRepository } from '../../src/twitch-auth/storage/typeorm/typeorm-token.repository.js';
import { requirePostgres } from '../support/postgres.js';
import { newToken } from './token-fixtures.js';
import { describeTokenRepositoryContract } from './token-repository.contract.js';
import { captureDueQueries, CapturingLogger, expectSchemaMatchesEntities, seedTokens, undoAllMigrations } from './typeorm-support.js';

const postgres = await requirePostgres('TypeOrmTokenRepository on Postgres');
const describeWithPostgres = postgres ? describe : describe.skip;

let shared: DataSource;
const logger = new CapturingLogger();

beforeAll(async () => {
  if (!postgres) return;
  shared = new DataSource(dataSourceOptionsFromUrl(postgres.url, { logger, logging: ['query'] }));
  await shared.initialize();
});

afterAll(async () => {
  if (shared?.isInitialized) await shared.destroy();
  await postgres?.stop();
});

/** The URL of a new, empty database on the throwaway cluster. */
async function createDatabase(name: string): Promise<string> {
  await shared.query(`CREATE DATABASE ${name}`);
  return postgres!.url.replace(/\/[^/]+$/, `/${name}`);
}

/** A second, empty database on the throwaway cluster, migrated by opening it. */
async function openFreshDatabase(name: string): Promise<DataSource> {
  await shared.query(`CREATE DATABASE ${name}`);
  const dataSource = new DataSource(dataSourceOptionsFromUrl(postgres!.url.replace(/\/[^/]+$/, `/${name}`)));
  await dataSource.initialize();
  return dataSource;
}

describeWithPostgres('Postgres', () => {
  describeTokenRepositoryContract('TypeOrmTokenRepository on Postgres', async () => {
    await shared.query('DELETE FROM twitch_token_intents');
    await shared.query('DELETE FROM twitch_tokens');
    return { repository: new TypeOrmTokenRepository(shared), teardown: async () => undefined };
  });

  describe('TypeOrmTokenRepository on Postgres: schema and plans', () => {
    it('migrates an empty database to exactly the schema the entities describe, and back down', async () => {
      const dataSource = await openFreshDatabase('migration_check');
      const tables = await dataSource.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'twitch_%' ORDER BY tablename`);
      expect(tables.map((t: { tablename: string }) => t.tablename)).toEqual(
        expect.arrayContaining(['twitch_token_intents', 'twitch_tokens']),
      );
      await expectSchemaMatchesEntities(dataSource);
      await undoAllMigrations(dataSource);
      expect(await dataSource.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'twitch_%'`)).toEqual([]);
      await dataSource.destroy();
    });

    it('migrates an empty database once when four data sources open it at the same moment', async () => {
      const url = await createDatabase('concurrent_boot');
      // What TypeORM's migrationsRun does on its own: every process races to create the migrations table.
      const unlocked = await Promise.allSettled([1, 2, 3, 4].map(async () => new DataSource(dataSourceOptionsFromUrl(url)).initialize()));
      const raced = unlocked.filter((outcome) => outcome.status === 'rejected');
      for (const outcome of unlocked) if (outcome.status === 'fulfilled') await outcome.value.destroy();
      await shared.query('DROP DATABASE concurrent_boot WITH (FORCE)');

      const lockedUrl = await createDatabase('concurrent_boot_locked');
      const opened = await Promise.all([1, 2, 3, 4].map(() => initializeTwitchAuthDataSource(dataSourceOptionsFromUrl(lockedUrl))));
      try {
        const applied: { name: string }[] = await opened[0]!.query('SELECT name FROM migrations ORDER BY id');
        expect(applied.map((row) => row.name)).toEqual(opened[0]!.migrations.map((migration) => migration.name));
        for (const dataSource of opened) {
          await new TypeOrmTokenRepository(dataSource).save(newToken(`boot-${opened.indexOf(dataSource)}`));
          expect(await dataSource.showMigrations()).toBe(false);
        }
        // The lock is released: a later run gets it at once and finds nothing to do.
        expect(await runMigrationsExclusively(opened[0]!, { lockTimeoutMs: 1000 })).toEqual([]);
      } finally {
        await Promise.all(opened.map((dataSource) => dataSource.destroy()));
      }
      console.info(`concurrent first boot on Postgres: without the lock ${raced.length} of 4 data sources failed; with it 0 of 4`);
    });

    it('gives up with a clear error when another session holds the migrations lock past the timeout', async () => {
      const url = await createDatabase('lock_timeout');
      const holder = await initializeTwitchAuthDataSource(dataSourceOptionsFromUrl(url));
      const waiter = await initializeTwitchAuthDataSource({ ...dataSourceOptionsFromUrl(url), migrationsRun: false });
      const runner = holder.createQueryRunner();
      await runner.connect();
      try {
        await runner.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_ADVISORY_LOCK_KEY]);
        await expect(runMigrationsExclusively(waiter, { lockTimeoutMs: 300 })).rejects.toThrow(
          /Token storage migration failed: another process held the migrations lock for over 300 ms/,
        );
        await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_ADVISORY_LOCK_KEY]);
        expect(await runMigrationsExclusively(waiter, { lockTimeoutMs: 300 })).toEqual([]);
      } finally {
        await runner.release();
        await holder.destroy();
        await waiter.destroy();
      }
    });

    it("deletes a user's intent rows through the foreign key", async () => {
      const repository = new TypeOrmTokenRepository(shared);
      await repository.save(newToken('fk-user', { intents: ['fk-intent'] }));
      await shared.query(`DELETE FROM twitch_tokens WHERE user_id = 'fk-user'`);
      expect(await shared.query(`SELECT * FROM twitch_token_intents WHERE intent = 'fk-intent'`)).toEqual([]);
    });

    it('answers both due-queries from their index among 5,000 analysed tokens, with no sequential scan', async () => {
      await shared.query('DELETE FROM twitch_token_intents');
      await shared.query('DELETE FROM twitch_tokens');
      await seedTokens(shared);
      const queries = await captureDueQueries(new TypeOrmTokenRepository(shared), logger);
      for (const [query, index] of [
        [queries.refresh, 'IDX_twitch_tokens_refresh_due'],
        [queries.validation, 'IDX_twitch_tokens_validation_due'],
      ] as const) {
        const plan: { 'QUERY PLAN': string }[] = await shared.query(`EXPLAIN ${query.sql}`, query.parameters);
        const text = plan.map((line) => line['QUERY PLAN']).join('\n');
        // A plain or bitmap index scan are both range reads of the index; what must never appear is a Seq Scan.
        expect(text).toMatch(new RegExp(`(Index Scan using|Index Only Scan using|Bitmap Index Scan on) "?${index}"?`));
        expect(text).not.toMatch(/Seq Scan/);
      }
    });
  });
});
