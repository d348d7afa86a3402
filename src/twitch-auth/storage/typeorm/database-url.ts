import { closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { TwitchAuthConfigError } from '../../twitch-auth.errors.js';
import { twitchAuthEntities, twitchAuthMigrations } from './twitch-auth.schema.js';

/** Folders this library creates for a SQLite file: only their owner may list or enter them. */
const PRIVATE_FOLDER_MODE = 0o700;
/** A SQLite file this library creates: only its owner may read it (it holds tokens). */
const PRIVATE_FILE_MODE = 0o600;

/** How long a SQLite writer waits for another process's write to finish before giving up. */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

/** TypeORM's `entities` option. @inline */
type EntityList = NonNullable<DataSourceOptions['entities']>;
/** TypeORM's `migrations` option. @inline */
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
 * A missing SQLite file is created here, private to its owner (0600, in
 * folders created 0700), before the driver opens it: SQLite gives its
 * `-wal` and `-shm` files the main file's permissions, so they follow.
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
  if (path === ':memory:') return { type: 'sqlite' as const, database: ':memory:', ...quietSqliteDriver() };
  const database = resolve(path);
  mkdirSync(dirname(database), { recursive: true, mode: PRIVATE_FOLDER_MODE });
  createPrivateFile(database);
  return { type: 'sqlite' as const, database, enableWAL: true, busyTimeout: SQLITE_BUSY_TIMEOUT_MS, ...quietSqliteDriver() };
}

/**
 * The `sqlite3` driver without its verbose mode. TypeORM switches it on for
 * every connection, and verbose mode captures a stack trace and formats the
 * arguments of every statement: most of a token write's CPU time in the
 * profile of maintenance. Errors still say what failed; only the JavaScript
 * stack of the call is missing. Empty when the package is not installed
 * (TypeORM then reports that as usual); pass `driver` in the extras to choose.
 */
function quietSqliteDriver(): { driver?: object } {
  let sqlite3: { verbose?: unknown };
  try {
    sqlite3 = createRequire(import.meta.url)('sqlite3') as { verbose?: unknown };
  } catch {
    return {};
  }
  const driver = new Proxy(sqlite3, {
    get: (target, property, receiver) => (property === 'verbose' ? () => driver : Reflect.get(target, property, receiver)),
  });
  return { driver };
}

/**
 * Creates `file` empty with mode 0600 (SQLite treats an empty file as a new
 * database) unless it exists. An existing file keeps its mode: its owner may
 * have chosen it (say, group-readable for a backup job), and tightening it
 * behind their back would break that; only files this library creates are
 * made private. The mode is set with fchmod too, as a strict umask would
 * otherwise leave the owner unable to write.
 */
function createPrivateFile(file: string): void {
  let descriptor: number;
  try {
    descriptor = openSync(file, 'wx', PRIVATE_FILE_MODE);
  } catch (error) {
    // Already there (created by its owner, an earlier run, or a process racing this one).
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  try {
    fchmodSync(descriptor, PRIVATE_FILE_MODE);
  } finally {
    closeSync(descriptor);
  }
}
