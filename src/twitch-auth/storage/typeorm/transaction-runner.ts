import type { DataSource, EntityManager } from 'typeorm';
import { errorCode, TokenStorageError } from './token-storage.error.js';

/**
 * Drivers whose DataSource shares one connection among all callers. TypeORM
 * turns a second concurrent `transaction()` on it into a SAVEPOINT of the
 * first, so two callers' work would commit or roll back together.
 */
const SINGLE_CONNECTION_DRIVERS = new Set([
  'sqlite',
  'better-sqlite3',
  'sqljs',
  'capacitor',
  'cordova',
  'expo',
  'nativescript',
  'react-native',
]);

/** Per DataSource, the tail of the queue of work on its single connection. */
const queues = new WeakMap<DataSource, Promise<unknown>>();

const MAX_ATTEMPTS = 25;

/**
 * Runs repository statements so each method stays atomic: single statements
 * as they are, multi-statement work in a transaction that is retried when it
 * lost a race (unique violation, deadlock, serialization failure, busy
 * database). On single-connection drivers (SQLite) all work on one
 * DataSource is queued and transactions take the write lock when they
 * begin; other processes are kept apart by the database's own locks.
 */
export class TransactionRunner {
  private readonly serialized: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.serialized = SINGLE_CONNECTION_DRIVERS.has(dataSource.options.type);
  }

  /** One statement (or reads that need no snapshot); no transaction. */
  async statement<T>(operation: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.queued(() => work(this.dataSource.manager));
    } catch (error) {
      throw new TokenStorageError(operation, error);
    }
  }

  /** A transaction, retried from the start when it lost a race. */
  async transaction<T>(operation: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.queued(() =>
          this.serialized ? inImmediateTransaction(this.dataSource, work) : this.dataSource.transaction(work),
        );
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !lostRace(error)) throw new TokenStorageError(operation, error);
        await sleep(Math.min(100, 2 ** attempt) * Math.random());
      }
    }
  }

  private queued<T>(work: () => Promise<T>): Promise<T> {
    if (!this.serialized) return work();
    const previous = queues.get(this.dataSource) ?? Promise.resolve();
    const result = previous.then(work);
    queues.set(
      this.dataSource,
      result.catch(() => undefined),
    );
    return result;
  }
}

/**
 * Runs `work` in a SQLite `BEGIN IMMEDIATE` transaction, which takes the
 * write lock up front, waiting out other processes with the busy timeout.
 * TypeORM's deferred BEGIN would let a transaction read first and then fail
 * with SQLITE_BUSY, without waiting, when it tries to write after another
 * process did. TypeORM does not know about this transaction, so `work` must
 * use query builders or raw statements, not `EntityManager.save`/`remove`
 * or anything else that opens a transaction of its own.
 */
export async function inImmediateTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('BEGIN IMMEDIATE');
    try {
      const result = await work(runner.manager);
      await runner.query('COMMIT');
      return result;
    } catch (error) {
      // The work's error is the one to report; SQLite may already have rolled back on its own.
      await runner.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}

/** Thrown inside a transaction to have it rolled back and run again. */
export class LostRaceError extends Error {}

/** Conflicts a fresh attempt resolves, as opposed to errors that would recur. */
function lostRace(error: unknown): boolean {
  if (error instanceof LostRaceError) return true;
  const code = errorCode(error);
  if (code === '23505' || code === '40001' || code === '40P01') return true;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return true;
  const message = error instanceof Error ? error.message : '';
  return code === 'SQLITE_CONSTRAINT' && /UNIQUE constraint failed/.test(message);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
