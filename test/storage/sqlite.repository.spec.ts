import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from '../../src/twitch-auth/storage/typeorm/database-url.js';
import { initializeTwitchAuthDataSource } from '../../src/twitch-auth/index.js';
import { TypeOrmTokenRepository } from '../../src/twitch-auth/storage/typeorm/typeorm-token.repository.js';
import { expectIntentsConsistent, intentChurn, newToken, T0 } from './token-fixtures.js';
import { describeTokenRepositoryContract } from './token-repository.contract.js';
import { captureDueQueries, CapturingLogger, expectSchemaMatchesEntities, seedTokens, undoAllMigrations } from './typeorm-support.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** A path for a database file in a new temporary directory (the file does not exist yet). */
function freshFile(): string {
  const directory = mkdtempSync(join(tmpdir(), 'twitch-auth-sqlite-'));
  directories.push(directory);
  return join(directory, 'nested', 'tokens.sqlite');
}

/** A migrated database in a fresh file, opened the way the app opens it. */
async function openSqlite(file?: string, logger?: CapturingLogger): Promise<{ dataSource: DataSource; file: string }> {
  file ??= freshFile();
  const dataSource = new DataSource(dataSourceOptionsFromUrl(`sqlite:${file}`, logger ? { logger, logging: ['query'] } : {}));
  await dataSource.initialize();
  return { dataSource, file };
}

describeTokenRepositoryContract('TypeOrmTokenRepository on SQLite', async () => {
  const { dataSource } = await openSqlite();
  return { repository: new TypeOrmTokenRepository(dataSource), teardown: () => dataSource.destroy() };
});

describe('TypeOrmTokenRepository on SQLite: schema and plans', () => {
  it('migrates an empty file to exactly the schema the entities describe, and back down', async () => {
    const { dataSource } = await openSqlite();
    const tables = await dataSource.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'twitch_%' ORDER BY name`);
    expect(tables.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['twitch_token_intents', 'twitch_tokens']));
    expect(await dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    await expectSchemaMatchesEntities(dataSource);
    await undoAllMigrations(dataSource);
    expect(await dataSource.query(`SELECT name FROM sqlite_master WHERE name LIKE 'twitch_%'`)).toEqual([]);
    await dataSource.destroy();
  });

  it('migrates an empty file once when four connections open it at the same moment, ten times over', async () => {
    const open = (file: string, locked: boolean) =>
      locked
        ? initializeTwitchAuthDataSource(dataSourceOptionsFromUrl(`sqlite:${file}`))
        : new DataSource(dataSourceOptionsFromUrl(`sqlite:${file}`)).initialize();
    let unlockedFailures = 0;
    for (let round = 0; round < 10; round++) {
      // TypeORM's own migrationsRun, for comparison: its connections may race to create the same tables.
      const unlockedFile = freshFile();
      const raced = await Promise.allSettled([1, 2, 3, 4].map(() => open(unlockedFile, false)));
      unlockedFailures += raced.filter((outcome) => outcome.status === 'rejected').length;
      for (const outcome of raced) if (outcome.status === 'fulfilled') await outcome.value.destroy();

      const file = freshFile();
      const opened = await Promise.all([1, 2, 3, 4].map(() => open(file, true)));
      try {
        const applied: { name: string }[] = await opened[0]!.query('SELECT name FROM migrations ORDER BY id');
        expect(applied.map((row) => row.name)).toEqual(opened[0]!.migrations.map((migration) => migration.name));
        for (const [index, dataSource] of opened.entries()) {
          await new TypeOrmTokenRepository(dataSource).save(newToken(`boot-${round}-${index}`));
          expect(await dataSource.showMigrations()).toBe(false);
          expect(await dataSource.query('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
          expect(await dataSource.query('PRAGMA busy_timeout')).toEqual([{ timeout: 10_000 }]);
        }
      } finally {
        await Promise.all(opened.map((dataSource) => dataSource.destroy()));
      }
    }
    console.info(`concurrent first boot on SQLite, 10 rounds of 4 connections: without the lock ${unlockedFailures} failed; with it 0`);
  });

  it("deletes a user's intent rows through the foreign key", async () => {
    const { dataSource } = await openSqlite();
    const repository = new TypeOrmTokenRepository(dataSource);
    await repository.save(newToken('100', { intents: ['chat'] }));
    await dataSource.query(`DELETE FROM twitch_tokens WHERE user_id = '100'`);
    expect(await dataSource.query('SELECT * FROM twitch_token_intents')).toEqual([]);
    await dataSource.destroy();
  });

  it('answers both due-queries from their index among 5,000 tokens', async () => {
    const logger = new CapturingLogger();
    const { dataSource } = await openSqlite(undefined, logger);
    await seedTokens(dataSource);
    const queries = await captureDueQueries(new TypeOrmTokenRepository(dataSource), logger);
    for (const [query, index] of [
      [queries.refresh, 'IDX_twitch_tokens_refresh_due'],
      [queries.validation, 'IDX_twitch_tokens_validation_due'],
    ] as const) {
      const plan: { detail: string }[] = await dataSource.query(`EXPLAIN QUERY PLAN ${query.sql}`, query.parameters);
      const details = plan.map((step) => step.detail);
      expect(details).toContainEqual(expect.stringMatching(new RegExp(`^SEARCH \\w+ USING INDEX ${index} \\(status=\\? AND \\w+<\\?\\)`)));
      expect(details.filter((d) => d.startsWith('SCAN'))).toEqual([]);
    }
    await dataSource.destroy();
  });
});

describe('TypeOrmTokenRepository in a Nest application', () => {
  it('is injected with the DataSource of TypeOrmModule.forRoot', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TypeOrmModule.forRoot(dataSourceOptionsFromUrl('sqlite::memory:'))],
      providers: [TypeOrmTokenRepository],
    }).compile();
    const repository = moduleRef.get(TypeOrmTokenRepository);
    await repository.save(newToken('100'));
    expect(await repository.get('100')).toMatchObject({ userId: '100', version: 1 });
    await moduleRef.close();
  });
});

describe('TypeOrmTokenRepository on SQLite: two connections to one file', () => {
  it("gives each of 100 users' leases to exactly one of two racing processes, without SQLITE_BUSY", async () => {
    const first = await openSqlite();
    const second = await openSqlite(first.file);
    const a = new TypeOrmTokenRepository(first.dataSource);
    const b = new TypeOrmTokenRepository(second.dataSource);
    const users = Array.from({ length: 100 }, (_, i) => `user-${String(i).padStart(3, '0')}`);
    for (const [i, user] of users.entries()) await (i % 2 ? a : b).save(newToken(user));
    const race = users.flatMap((user) => [
      a.acquireLease(user, 'process-a', T0 + 60_000, T0).then((won) => ({ user, owner: won && 'process-a' })),
      b.acquireLease(user, 'process-b', T0 + 60_000, T0).then((won) => ({ user, owner: won && 'process-b' })),
    ]);
    const results = await Promise.all(race);
    for (const user of users) {
      const winners = results.filter((r) => r.user === user && r.owner);
      expect(winners).toHaveLength(1);
      expect((await b.get(user))?.leaseOwner).toBe(winners[0]!.owner);
    }
    await first.dataSource.destroy();
    await second.dataSource.destroy();
  });

  it('moves intents between users from both processes at once without errors or a split owner', async () => {
    const first = await openSqlite();
    const second = await openSqlite(first.file);
    const repositories = [new TypeOrmTokenRepository(first.dataSource), new TypeOrmTokenRepository(second.dataSource)];
    const results = await Promise.allSettled(intentChurn(repositories, 300));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await expectIntentsConsistent(repositories[1]!);
    await first.dataSource.destroy();
    await second.dataSource.destroy();
  });
});
