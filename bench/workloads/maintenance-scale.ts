/**
 * B9 / B9m: maintenance with 1,000,000 stored users. The table is seeded as
 * an hour of real traffic leaves it (access tokens living 4 hours, expiries
 * and validation ages spread evenly, nothing overdue), then a slice of it is
 * made due as if the clock had moved on: a fifth due for refresh, the rest
 * for validation (Twitch's 69 refreshes to 278 validations per second at a
 * million users). Only the slice's tokens are issued by FakeTwitch (its own
 * process); the rest never reach it. `instances` processes then run ticks on
 * the one database until nothing is due, each measuring its own CPU time.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { startPostgres, type ThrowawayPostgres } from '../../test/support/postgres.js';
import { childExecArgv, reportProgress, runAsChild } from '../lib/child.js';
import { FakeTwitchProcess, type FakeTwitchStats } from '../lib/fake-twitch.process-client.js';
import { createOurApp, type OurApp } from '../lib/nest-app.js';
import { TokenTableSeeder, type SeedRow } from '../lib/sqlite-seed.js';
import type { InstanceMessage, InstanceParams, InstanceResult } from './maintenance-instance.js';

export interface MaintenanceScaleParams {
  database: 'sqlite' | 'postgres';
  users: number;
  /** Tokens made due per round: the work measured. */
  slice: number;
  /** Instances per round; each round makes a new slice due (the table keeps `users` rows). */
  rounds: number[];
  concurrency: number;
  /** FakeTwitch's added delay per request (0: answers at once). */
  latencyMs?: number;
}

/** One round: a slice made due and maintained by `instances.length` processes. */
export interface MaintenanceRound {
  refreshDue: number;
  validationDue: number;
  instances: InstanceResult[];
  fake: FakeTwitchStats;
  /** Rows still leased after the round: a lease never given back would hold its user until it lapses. */
  leasesLeft: number;
  /** Postgres: transactions (each lone statement is one) the database committed during the measured ticks. */
  transactions: number | null;
}

export interface MaintenanceScaleResult {
  params: MaintenanceScaleParams;
  rounds: MaintenanceRound[];
  seedSeconds: number;
}

const HOUR = 3600_000;
const TTL_MS = 4 * HOUR;
const SCOPES = ['chat:read'];
/** Share of the due work that is refreshes: 69 / (69 + 278). */
const REFRESH_SHARE = 0.2;
const CHUNK = 100_000;
const FIRST_FILLER = 100_000_000;
const FIRST_DUE = 900_000_000;
const FIRST_WARM_UP = 800_000_000;
/** Tokens each instance maintains, unmeasured, before the measured slice is made due: enough for the JIT to settle. */
const WARM_UP_PER_INSTANCE = 5_000;

async function main(params: MaintenanceScaleParams): Promise<MaintenanceScaleResult> {
  const directory = mkdtempSync(join(tmpdir(), 'twitch-auth-b9-'));
  const fake = await FakeTwitchProcess.start({ latencyMs: params.latencyMs ?? 0, accessTokenTtlSeconds: TTL_MS / 1000 });
  let postgres: ThrowawayPostgres | null = null;
  try {
    if (params.database === 'postgres') postgres = await startPostgres({ crashSafe: true });
    const databaseUrl = postgres?.url ?? `sqlite:${join(directory, 'tokens.sqlite')}`;
    const started = Date.now();
    await seedFillers(params, databaseUrl);
    const seedSeconds = (Date.now() - started) / 1000;
    reportProgress(`${params.users.toLocaleString('en-US')} stored in ${seedSeconds.toFixed(0)} s`);
    const rounds: MaintenanceRound[] = [];
    // The table keeps `users` rows: every slice after the first replaces as many filler rows.
    let stored = params.users - params.slice;
    let removed = 0;
    const makeDue = async (count: number, firstId: number) => {
      const surplus = Math.max(0, stored + count - params.users);
      const fillers = Array.from({ length: surplus }, (_, i) => String(FIRST_FILLER + removed + i));
      removed += surplus;
      stored += count - surplus;
      return seedDueSlice(count, firstId, fillers, databaseUrl, fake);
    };
    for (const [round, instances] of params.rounds.entries()) {
      await fake.reset();
      await makeDue(WARM_UP_PER_INSTANCE * instances, FIRST_WARM_UP + round * 100_000);
      let due = { refreshDue: 0, validationDue: 0 };
      let transactionsBefore = 0;
      const results = await runInstances(params, instances, databaseUrl, fake, async () => {
        await fake.reset();
        due = await makeDue(params.slice, FIRST_DUE + round * params.slice);
        if (postgres) transactionsBefore = await committedTransactions(postgres.url);
      });
      // The instances have exited, so their sessions' counts have reached the statistics.
      const transactions = postgres ? (await committedTransactions(postgres.url)) - transactionsBefore - 1 : null;
      rounds.push({ ...due, instances: results, fake: await fake.stats(), leasesLeft: await countLeases(databaseUrl), transactions });
      reportProgress(
        `round ${round + 1}: ${instances} instance(s), ${results.map((r) => `${r.refreshed + r.validated} tokens in ${r.cpuMs.toFixed(0)} ms CPU`).join('; ')}`,
      );
    }
    return { params, rounds, seedSeconds };
  } finally {
    await fake.close();
    await postgres?.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The table at rest: `users - slice` rows, none due for a quarter of an hour. */
async function seedFillers(params: MaintenanceScaleParams, databaseUrl: string): Promise<void> {
  const app = await createOurApp({ databaseUrl });
  try {
    const seeder = await templateSeeder(app);
    const fillers = params.users - params.slice;
    // Validated within the last 45 minutes, expiring after 15, both spread evenly.
    const now = Date.now();
    if (seeder.postgres) {
      // The same rows as below, generated by the server.
      const expiresAt = `round(${now} + ${0.25 * HOUR} + (((i * 7919) % ${fillers}) + 0.5) / ${fillers} * ${TTL_MS - 0.25 * HOUR})`;
      await seeder.generate(fillers, FIRST_FILLER, {
        accessToken: `'a' || (${FIRST_FILLER} + i)::text || repeat('x', 21)`,
        refreshToken: `'r' || (${FIRST_FILLER} + i)::text || repeat('y', 40)`,
        expiresAt,
        obtainedAt: `${expiresAt} - ${TTL_MS}`,
        lastValidatedAt: `round(${now} - (i + 0.5) / ${fillers} * ${0.75 * HOUR})`,
      });
      return;
    }
    for (let from = 0; from < fillers; from += CHUNK) {
      const rows: SeedRow[] = [];
      for (let i = from; i < Math.min(fillers, from + CHUNK); i++) {
        const userId = String(FIRST_FILLER + i);
        const expiresAt = Math.round(now + 0.25 * HOUR + spread((i * 7919) % fillers, fillers) * (TTL_MS - 0.25 * HOUR));
        rows.push({
          userId,
          accessToken: `a${userId}${'x'.repeat(21)}`,
          refreshToken: `r${userId}${'y'.repeat(40)}`,
          expiresAt,
          obtainedAt: expiresAt - TTL_MS,
          lastValidatedAt: Math.round(now - spread(i, fillers) * 0.75 * HOUR),
        });
      }
      await seeder.insert(rows);
    }
  } finally {
    await app.close();
  }
}

/** Makes `count` tokens due, as if the clock had moved on, with tokens FakeTwitch issued, after removing the rows `makeWay` names. */
async function seedDueSlice(
  count: number,
  firstId: number,
  makeWay: string[],
  databaseUrl: string,
  fake: FakeTwitchProcess,
): Promise<{ refreshDue: number; validationDue: number }> {
  const app = await createOurApp({ databaseUrl });
  try {
    const seeder = await templateSeeder(app);
    await seeder.delete(makeWay);
    const refreshDue = Math.round(count * REFRESH_SHARE);
    const validationDue = count - refreshDue;
    const dueIds = Array.from({ length: count }, (_, i) => String(firstId + i));
    const at = Date.now();
    for (let from = 0; from < dueIds.length; from += 10_000) {
      const issued = await fake.issue(dueIds.slice(from, from + 10_000), SCOPES);
      await seeder.insert(
        issued.map((pair, offset) => {
          const i = from + offset;
          if (i < refreshDue) {
            // Inside the refresh window (10 minutes before expiry), validated in the last half hour.
            const expiresAt = Math.round(at + 60_000 + spread(i, refreshDue) * 500_000);
            return {
              ...pair,
              expiresAt,
              obtainedAt: expiresAt - TTL_MS,
              lastValidatedAt: Math.round(at - spread(i, refreshDue) * 0.5 * HOUR),
            };
          }
          // Validated just over an hour's look-ahead ago, spread over the next few minutes of real time.
          const expiresAt = Math.round(at + 0.5 * HOUR + spread(i, validationDue) * 3 * HOUR);
          return {
            ...pair,
            expiresAt,
            obtainedAt: expiresAt - TTL_MS,
            lastValidatedAt: Math.round(at - HOUR - spread(i, validationDue) * 150_000),
          };
        }),
      );
    }
    return { refreshDue, validationDue };
  } finally {
    await app.close();
  }
}

/** A seeder copying a row the library itself wrote (then removed again). */
async function templateSeeder(app: OurApp): Promise<TokenTableSeeder> {
  await app.tokens.addToken('template', 'template-access', 'template-refresh', SCOPES, { expiresAt: new Date(Date.now() + TTL_MS) });
  const seeder = await TokenTableSeeder.fromTemplate(app.app.get(DataSource), 'template');
  await seeder.delete(['template']);
  return seeder;
}

/** The middle of the `i`th of `count` equal parts of [0, 1). */
function spread(i: number, count: number): number {
  return (i + 0.5) / count;
}

/** Starts the instances, waits until every one booted, lets them go together and collects their results. */
async function runInstances(
  params: MaintenanceScaleParams,
  count: number,
  databaseUrl: string,
  fake: FakeTwitchProcess,
  /** Runs after the instances' warm-up, before the measured ticks. */
  beforeMeasuring: () => Promise<void>,
): Promise<InstanceResult[]> {
  const instanceParams: InstanceParams = {
    databaseUrl,
    fakeUrl: fake.url,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    concurrency: params.concurrency,
  };
  const children = Array.from({ length: count }, (_, i) =>
    fork(new URL('./maintenance-instance.js', import.meta.url), [JSON.stringify(instanceParams)], {
      execArgv: childExecArgv(`B9-instance-${i}`),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const next = (child: (typeof children)[number]) =>
    new Promise<InstanceMessage>((resolve, reject) => {
      child.once('message', (message: InstanceMessage) =>
        message.type === 'error' ? reject(new Error(message.message)) : resolve(message),
      );
      child.once('exit', (code) => reject(new Error(`a B9 instance exited (code ${code})`)));
    });
  try {
    await Promise.all(children.map(next));
    const warmed = children.map(next);
    for (const child of children) child.send({ type: 'go', measure: false } satisfies InstanceMessage);
    await Promise.all(warmed);
    await beforeMeasuring();
    const results = children.map(next);
    for (const child of children) child.send({ type: 'go', measure: true } satisfies InstanceMessage);
    return (await Promise.all(results)).map((message) => (message as { value: InstanceResult }).value);
  } finally {
    // Each exits by itself after its result (writing its CPU profile when asked to); one that does not is stopped.
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        const timer = setTimeout(() => child.kill(), 30_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** Transactions the database has committed or rolled back so far, read on a new session (which adds its own one). */
async function committedTransactions(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>(
      'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(result.rows[0]!.n);
  } finally {
    await client.end();
  }
}

async function countLeases(databaseUrl: string): Promise<number> {
  const app = await createOurApp({ databaseUrl });
  try {
    const rows = (await app.app.get(DataSource).query('SELECT COUNT(*) AS n FROM twitch_tokens WHERE lease_owner IS NOT NULL')) as {
      n: string | number;
    }[];
    return Number(rows[0]!.n);
  } finally {
    await app.close();
  }
}

runAsChild(main);
