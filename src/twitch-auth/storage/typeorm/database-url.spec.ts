import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DataSource } from 'typeorm';
import { TwitchAuthConfigError } from '../../twitch-auth.errors.js';
import { dataSourceOptionsFromUrl } from './database-url.js';
import { twitchAuthEntities, twitchAuthMigrations } from './twitch-auth.schema.js';

describe('dataSourceOptionsFromUrl', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'twitch-auth-url-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('opens a SQLite file relative to the working directory, shareable between processes, creating its folder', () => {
    const file = join(directory, 'deep', 'er', 'tokens.sqlite');
    const options = dataSourceOptionsFromUrl(`sqlite:${relative(process.cwd(), file)}`);
    expect(options).toMatchObject({ type: 'sqlite', database: file, enableWAL: true, busyTimeout: expect.any(Number) });
    expect(existsSync(join(directory, 'deep', 'er'))).toBe(true);
  });

  it('creates a missing SQLite file 0600 in folders created 0700, and its -wal and -shm follow', async () => {
    const folder = join(directory, 'private', 'data');
    const file = join(folder, 'tokens.sqlite');
    const options = dataSourceOptionsFromUrl(`sqlite:${file}`);
    expect(mode(join(directory, 'private'))).toBe(0o700);
    expect(mode(folder)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    const dataSource = await new DataSource(options).initialize();
    try {
      // Migrations wrote through the WAL: the driver created -wal and -shm next to the file while open.
      expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('leaves the mode of an existing file and folder alone: their owner chose it', () => {
    const folder = join(directory, 'shared');
    mkdirSync(folder, { mode: 0o750 });
    chmodSync(folder, 0o750);
    const file = join(folder, 'tokens.sqlite');
    writeFileSync(file, '');
    chmodSync(file, 0o640);
    dataSourceOptionsFromUrl(`sqlite:${file}`);
    expect([mode(folder), mode(file)]).toEqual([0o750, 0o640]);
  });

  it('accepts absolute paths, with or without slashes after the scheme', () => {
    const file = join(directory, 'tokens.sqlite');
    expect(dataSourceOptionsFromUrl(`sqlite:${file}`)).toMatchObject({ database: file });
    expect(dataSourceOptionsFromUrl(`sqlite://${file}`)).toMatchObject({ database: file });
  });

  it('opens an in-memory SQLite database for sqlite::memory:', () => {
    const options = dataSourceOptionsFromUrl('sqlite::memory:');
    expect(options).toMatchObject({ type: 'sqlite', database: ':memory:' });
    expect(options).not.toHaveProperty('enableWAL');
  });

  it('hands postgres:// and postgresql:// URLs to the postgres driver unchanged', () => {
    for (const url of ['postgres://bot:p%40ss@db.example:5432/twitch', 'postgresql://db.example/twitch?sslmode=require']) {
      expect(dataSourceOptionsFromUrl(url)).toMatchObject({ type: 'postgres', url });
    }
  });

  it("includes this library's schema, runs migrations at startup and never synchronizes", () => {
    const options = dataSourceOptionsFromUrl('sqlite::memory:');
    expect(options).toMatchObject({
      entities: twitchAuthEntities,
      migrations: twitchAuthMigrations,
      migrationsRun: true,
      synchronize: false,
    });
  });

  it("adds the caller's entities and migrations to ours and lets other options override", () => {
    class OwnEntity {}
    class OwnMigration {}
    const options = dataSourceOptionsFromUrl('sqlite::memory:', {
      entities: [OwnEntity],
      migrations: [OwnMigration],
      logging: true,
      migrationsRun: false,
    });
    expect(options.entities).toEqual([...twitchAuthEntities, OwnEntity]);
    expect(options.migrations).toEqual([...twitchAuthMigrations, OwnMigration]);
    expect(options).toMatchObject({ logging: true, migrationsRun: false });
  });

  it('names DATABASE_URL for an unsupported scheme without echoing the URL', () => {
    const attempt = () => dataSourceOptionsFromUrl('mysql://root:s3cret@db.example/twitch');
    expect(attempt).toThrow(TwitchAuthConfigError);
    expect(attempt).toThrow(/DATABASE_URL.*"mysql:"/);
    expect(attempt).not.toThrow(/s3cret/);
  });

  it('names DATABASE_URL when there is no scheme or no SQLite path', () => {
    expect(() => dataSourceOptionsFromUrl('data/tokens.sqlite')).toThrow(/DATABASE_URL.*no scheme/);
    expect(() => dataSourceOptionsFromUrl('sqlite:')).toThrow(/DATABASE_URL.*needs a file path/);
  });
});

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}
