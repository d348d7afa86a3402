import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type DataSourceOptions, type Migration } from 'typeorm';
import { TwitchAuthConfigError } from '../../twitch-auth.errors.js';
import { errorCode, TokenStorageError } from './token-storage.error.js';
import { inImmediateTransaction } from './transaction-runner.js';

/**
 * The Postgres advisory lock migrations run under (one 64-bit key; the
 * number spells nothing, it only has to differ from the keys your own code
 * locks).
 */
export const MIGRATIONS_ADVISORY_LOCK_KEY = '7302619458120411';

/** How long a process waits for another one to finish migrating, by default. */
export const MIGRATIONS_LOCK_TIMEOUT_MS = 60_000;

/** Options of `runMigrationsExclusively`. */
export interface ExclusiveMigrationOptions {
  /** Give up waiting for another process's migrations after this long. Default 60 s. */
  lockTimeoutMs?: number;
}

/**
 * Runs the data source's pending migrations so that processes starting
 * together on one empty database do it one at a time: the first creates the
 * tables, the others then find nothing left to do. (TypeORM's own
 * `migrationsRun` has no such lock: several processes race to create the
 * same tables and all but one fail.)
 *
 * - Postgres: a session-level advisory lock is taken first, waited for up to
 *   `lockTimeoutMs`; a process killed while holding it releases it.
 * - SQLite (the `sqlite` driver): the migrations run in one `BEGIN IMMEDIATE` transaction, which
 *   takes SQLite's write lock up front (waited for up to the busy timeout),
 *   so a second process reads the migrations table only after the first
 *   committed. `migrationsTransactionMode` is not used there.
 * - Other databases: as TypeORM runs them.
 */
export async function runMigrationsExclusively(dataSource: DataSource, options: ExclusiveMigrationOptions = {}): Promise<Migration[]> {
  const transaction = dataSource.options.migrationsTransactionMode;
  // A string, so this compiles against TypeORM 1 too, whose option types no longer name 'sqlite'.
  const type: string = dataSource.options.type;
  if (type === 'sqlite') return runSqliteMigrationsImmediately(dataSource);
  if (type !== 'postgres') return dataSource.runMigrations({ transaction });
  const timeoutMs = options.lockTimeoutMs ?? MIGRATIONS_LOCK_TIMEOUT_MS;
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    for (const deadline = Date.now() + timeoutMs; ;) {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATIONS_ADVISORY_LOCK_KEY])) as {
        locked: boolean;
      }[];
      if (row?.locked) break;
      if (Date.now() >= deadline) {
        throw new TokenStorageError(
          'migration',
          new Error(
            `another process held the migrations lock for over ${timeoutMs} ms (Postgres advisory lock ${MIGRATIONS_ADVISORY_LOCK_KEY})`,
          ),
        );
      }
      await sleep(50 + Math.random() * 100);
    }
    try {
      return await dataSource.runMigrations({ transaction });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_ADVISORY_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * `PRAGMA journal_mode = WAL`, retried while another connection holds the
 * write lock: the switch needs the file to itself, and SQLite answers
 * SQLITE_BUSY at once there instead of waiting (which could deadlock).
 */
async function switchToWal(dataSource: DataSource, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    try {
      await dataSource.query('PRAGMA journal_mode = WAL');
      return;
    } catch (error) {
      if (errorCode(error) !== 'SQLITE_BUSY' || Date.now() >= deadline) throw new TokenStorageError('switch to WAL', error);
      await sleep(20 + Math.random() * 30);
    }
  }
}

function runSqliteMigrationsImmediately(dataSource: DataSource): Promise<Migration[]> {
  // One connection serves the whole SQLite data source, so TypeORM's statements run inside this transaction.
  return inImmediateTransaction(dataSource, () => dataSource.runMigrations({ transaction: 'none' }));
}

/**
 * A `dataSourceFactory` for `TypeOrmModule.forRootAsync`: initializes the
 * data source, then runs its migrations (when `migrationsRun` is set) with
 * `runMigrationsExclusively`, so several instances of your app can start at
 * once on an empty database.
 *
 * ```ts
 * TypeOrmModule.forRootAsync({
 *   useFactory: () => dataSourceOptionsFromUrl(process.env.DATABASE_URL!),
 *   dataSourceFactory: initializeTwitchAuthDataSource,
 * })
 * ```
 */
export async function initializeTwitchAuthDataSource(options?: DataSourceOptions): Promise<DataSource> {
  if (!options) throw new TwitchAuthConfigError('initializeTwitchAuthDataSource needs the DataSource options (TypeOrmModule passes them).');
  // TypeORM switches a SQLite file to WAL before it sets the busy timeout, so a connection opening a new file
  // while another one migrates it fails with SQLITE_BUSY at once. Switched here, after the timeout is set, it waits.
  const sqlite = options as { type: string; enableWAL?: boolean; busyTimeout?: number };
  const walLater = sqlite.type === 'sqlite' && sqlite.enableWAL === true;
  const dataSource = new DataSource({ ...options, migrationsRun: false, ...(walLater ? { enableWAL: false } : {}) } as DataSourceOptions);
  await dataSource.initialize();
  try {
    if (walLater) await switchToWal(dataSource, sqlite.busyTimeout ?? MIGRATIONS_LOCK_TIMEOUT_MS);
    if (options.migrationsRun) await runMigrationsExclusively(dataSource);
  } catch (error) {
    // The first error is the one to report; a failure to close on top of it would only hide it.
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}
