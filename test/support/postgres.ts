import { execFile, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './net.js';

const run = promisify(execFile);

/** A Postgres cluster that lives only as long as one test file. */
export interface ThrowawayPostgres {
  /** Connection URL of an empty database on the cluster. */
  url: string;
  /** Stops the cluster at once and deletes its files. */
  stop(): Promise<void>;
  /**
   * Stops the server at once (`pg_ctl stop -m immediate`, as a crash would),
   * keeping its files, so a test can take the database away under running
   * processes; `restartServer` brings it back.
   */
  stopServer(): Promise<void>;
  /** Starts the server again on the same data directory and port after `stopServer`. */
  restartServer(): Promise<void>;
}

/** How the throwaway cluster is set up. */
export interface PostgresOptions {
  /**
   * Keep every acknowledged commit through `stopServer` (a crash of the
   * server process): synchronous commit stays on. Without it the cluster
   * trades that for speed. fsync stays off either way: the machine does not
   * crash, only the server process.
   */
  crashSafe?: boolean;
}

interface Binaries {
  initdb: string;
  pgCtl: string;
}

/**
 * Starts a private cluster in a temporary directory on a free loopback port,
 * so tests never depend on (or disturb) a system Postgres. Durability is
 * switched off for speed. As root it runs as the `postgres` system user,
 * because initdb refuses to run as root.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<ThrowawayPostgres> {
  const binaries = findBinaries();
  if (!binaries) throw new Error('initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUser() : null;
  const root = mkdtempSync(join(tmpdir(), 'twitch-auth-pg-'));
  if (owner) chownSync(root, owner.uid, owner.gid);
  const dataDir = join(root, 'data');
  const port = await freePort();
  const asOwner = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', command, ...args]) : run(command, args);
  const stop = async () => {
    process.removeListener('exit', stopNow);
    await asOwner(binaries.pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  // Last resort when a test run is interrupted before `stop()`: no cluster outlives its run.
  const stopNow = () => {
    const args = [binaries.pgCtl, '-D', dataDir, '-m', 'immediate', 'stop'];
    spawnSync(asRoot ? 'runuser' : args[0]!, asRoot ? ['-u', 'postgres', '--', ...args] : args.slice(1));
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', stopNow);
  const settings = [
    `-p ${port}`,
    `-k ${root}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    // Off, a commit is acknowledged before its WAL is written, and a crash (`stopServer`) loses the last
    // acknowledged transactions: no real database does that, so a crash-safe cluster keeps it on.
    `-c synchronous_commit=${options.crashSafe ? 'on' : 'off'}`,
    '-c full_page_writes=off',
  ].join(' ');
  const startServer = () =>
    asOwner(binaries.pgCtl, ['-D', dataDir, '-l', join(root, 'server.log'), '-w', '-t', '60', '-o', settings, 'start']);
  const stopServer = async () => {
    await asOwner(binaries.pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
  };
  const restartServer = async () => {
    await startServer();
  };
  try {
    await asOwner(binaries.initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    await startServer();
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE twitch_auth_test');
    } finally {
      await admin.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/twitch_auth_test`, stop, stopServer, restartServer };
}

/** Whether the Postgres server programs are installed (and usable by this user). */
export function postgresAvailable(): boolean {
  if (!findBinaries()) return false;
  return process.getuid?.() !== 0 || postgresUser() !== null;
}

/**
 * The policy for suites that need Postgres: on CI a missing or broken
 * Postgres fails the run (a skipped suite would pass silently); elsewhere the
 * suite is skipped with a warning saying how to enable it. Null means skip.
 */
export async function requirePostgres(suite: string, options: PostgresOptions = {}): Promise<ThrowawayPostgres | null> {
  try {
    return await startPostgres(options);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (process.env.CI) throw new Error(`${suite}: Postgres is required on CI but could not start: ${reason}`);
    console.warn(
      `${suite}: SKIPPED, Postgres could not start (${reason}). To run it, install Postgres (apt-get install postgresql) or fix the cause above.`,
    );
    return null;
  }
}

function findBinaries(): Binaries | null {
  const directories = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    // Not a Debian-style install; PATH is all there is.
  }
  for (const directory of [...directories, ...versions.map((v) => `/usr/lib/postgresql/${v}/bin`)]) {
    const initdb = join(directory, 'initdb');
    const pgCtl = join(directory, 'pg_ctl');
    if (executable(initdb) && executable(pgCtl)) return { initdb, pgCtl };
  }
  return null;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function postgresUser(): { uid: number; gid: number } | null {
  const result = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const groups = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (result.status !== 0 || groups.status !== 0) return null;
  return { uid: Number(result.stdout.trim()), gid: Number(groups.stdout.trim()) };
}
