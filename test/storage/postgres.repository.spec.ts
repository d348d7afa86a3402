import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from '../../src/twitch-auth/storage/typeorm/database-url.js';
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
