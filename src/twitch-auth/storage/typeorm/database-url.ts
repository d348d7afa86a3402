import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { TwitchAuthConfigError } from '../../twitch-auth.errors.js';
import { twitchAuthEntities, twitchAuthMigrations } from './twitch-auth.schema.js';

/** How long a SQLite writer waits for another process's write to finish before giving up. */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

type EntityList = NonNullable<DataSourceOptions['entities']>;
type MigrationList = NonNullable<DataSourceOptions['migrations']>;

/**
 * Options merged into the result. `entities` and `migrations` are added to
 * this library's own; anything else (e.g. `logging`, `name`, `extra`)
 * overrides the defaults.
 */
export interface DataSourceUrlExtras {
  entities?: EntityList;
  migrations?: MigrationList;
  [option: string]: unknown;
}

/**
 * Turns a `DATABASE_URL` into DataSource options with this library's schema
 * and migrations, so the demo app, the CLI and `ormconfig.ts` agree on one
 * database. `sqlite:path` (relative to the working directory, or absolute;
 * `sqlite::memory:` for a throwaway one) or `postgres://…` / `postgresql://…`.
 * A SQLite file gets WAL and a busy timeout so several processes can share it.
 */
export function dataSourceOptionsFromUrl(url: string, extra: DataSourceUrlExtras = {}): DataSourceOptions {
  const { entities = [], migrations = [], ...overrides } = extra;
  const common = {
    entities: [...twitchAuthEntities, ...(entities as unknown[])],
    migrations: [...twitchAuthMigrations, ...(migrations as unknown[])],
    migrationsRun: true,
    synchronize: false,
  };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') {
    return asDataSourceOptions({ ...common, ...sqliteOptions(url.slice('sqlite:'.length)), ...overrides });
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    return asDataSourceOptions({ ...common, type: 'postgres', url, ...overrides });
  }
  throw new TwitchAuthConfigError(
    `DATABASE_URL must start with "sqlite:" (e.g. sqlite:data/twitch-auth.sqlite) or "postgres://"; ` +
      (scheme ? `the "${scheme}:" scheme is not supported.` : 'it has no scheme.'),
  );
}

/** Typed through `object`, so this compiles against TypeORM 0.3 and 1 alike (1 no longer lists the `sqlite` driver). */
function asDataSourceOptions(options: object): DataSourceOptions {
  return options as DataSourceOptions;
}

function sqliteOptions(location: string) {
  // `sqlite:///abs/path` and `sqlite://rel/path` are accepted as well as `sqlite:path`; the path is taken literally.
  const path = location.startsWith('//') ? location.slice(2) : location;
  if (path === '') throw new TwitchAuthConfigError('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:data/twitch-auth.sqlite.');
  if (path === ':memory:') return { type: 'sqlite' as const, database: ':memory:' };
  const database = resolve(path);
  mkdirSync(dirname(database), { recursive: true });
  return { type: 'sqlite' as const, database, enableWAL: true, busyTimeout: SQLITE_BUSY_TIMEOUT_MS };
}
