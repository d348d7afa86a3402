/**
 * B4: one maintenance tick with 1,000 tokens due for refresh among N stored
 * tokens in a SQLite file, for growing N. The table grows in place (filler
 * tokens that are neither due for refresh nor for validation); each round
 * adds 1,000 due tokens FakeTwitch can refresh, runs one tick, checks that
 * all 1,000 were refreshed, and deletes them again.
 *
 * The tick is `TwitchAuthMaintenance.runNow()` when the module provides it;
 * otherwise a labelled stand-in: the due-query plus `TokenService.refresh`
 * of every due token, 8 at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import * as library from '../../src/twitch-auth/index.js';
import { TokenRepository } from '../../src/twitch-auth/index.js';
import { runAsChild, reportProgress } from '../lib/child.js';
import { FakeTwitchProcess } from '../lib/fake-twitch.process-client.js';
import { redirectTwitchToFake } from '../lib/loopback-fetch.js';
import { createOurApp, type OurApp } from '../lib/nest-app.js';
import { TokenTableSeeder, type SeedRow } from '../lib/sqlite-seed.js';
import { forEachConcurrently, median } from '../lib/stats.js';

export interface MaintenanceTickParams {
  sizes: number[];
  due: number;
  rounds: number;
  concurrency: number;
}

export interface TickSample {
  size: number;
  round: number;
  tickMs: number;
  /** CPU time of the app's process during the tick (the rest is waiting: SQLite's fsyncs, FakeTwitch). */
  cpuMs: number;
  /** Ticks it took to refresh every due token (1 unless a tick ran out of budget). */
  ticks: number;
  refreshed: number;
  tokenRequests: number;
  failed: number;
  reused: number;
}

export interface MaintenanceTickResult {
  tick: 'TwitchAuthMaintenance.runNow()' | 'stand-in: due-query + TokenService.refresh, concurrency 8';
  samples: TickSample[];
  /** Median time of the due-query alone (`listDueForRefresh`, limit 500) per size. */
  dueQueryMs: Record<number, number>;
  seedSeconds: Record<number, number>;
  queryPlan: string[];
}

const TTL_MS = 4 * 3600_000;
const SCOPES = ['chat:read'];

interface Tick {
  run(): Promise<{ refreshed: number; failed: number; firstFailure: string | null }>;
}

async function main(params: MaintenanceTickParams): Promise<MaintenanceTickResult> {
  const directory = mkdtempSync(join(tmpdir(), 'twitch-auth-bench-'));
  const fake = await FakeTwitchProcess.start({ latencyMs: 0, accessTokenTtlSeconds: TTL_MS / 1000 });
  redirectTwitchToFake(fake.url);
  const ours = await createOurApp({
    idBaseUrl: fake.url,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    databaseUrl: `sqlite:${join(directory, 'tokens.sqlite')}`,
    options: { maintenance: { enabled: false, concurrency: params.concurrency } },
  });
  try {
    return await measure(params, ours, fake);
  } finally {
    await ours.close();
    await fake.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function measure(params: MaintenanceTickParams, ours: OurApp, fake: FakeTwitchProcess): Promise<MaintenanceTickResult> {
  const dataSource = ours.app.get(DataSource);
  const repository = ours.app.get<TokenRepository>(TokenRepository);
  await ours.tokens.addToken('template', 'template-access', 'template-refresh', SCOPES, { expiresAt: new Date(Date.now() + TTL_MS) });
  const seeder = await TokenTableSeeder.fromTemplate(dataSource, 'template');
  await seeder.delete(['template']);
  const { tick, label } = chooseTick(ours, repository, params.concurrency);

  let dueBatch = 0;
  const addDueTokens = async (): Promise<string[]> => {
    dueBatch++;
    const userIds = Array.from({ length: params.due }, (_, i) => `due-${dueBatch}-${i}`);
    const issued = await fake.issue(userIds, SCOPES);
    const now = Date.now();
    // Inside the refresh window (expires in 5 minutes, refreshed 10 minutes ahead), validated just now.
    await seeder.insert(
      issued.map((pair) => ({
        userId: pair.userId,
        accessToken: pair.accessToken,
        refreshToken: pair.refreshToken,
        expiresAt: now + 300_000,
        obtainedAt: now + 300_000 - TTL_MS,
        lastValidatedAt: now,
      })),
    );
    return userIds;
  };
  const runRound = async (size: number, round: number): Promise<TickSample> => {
    await fake.reset();
    const dueIds = await addDueTokens();
    const started = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    let refreshed = 0;
    let failed = 0;
    let ticks = 0;
    let firstFailure: string | null = null;
    while (refreshed < params.due && ticks < 10) {
      const summary = await tick.run();
      ticks++;
      refreshed += summary.refreshed;
      failed += summary.failed;
      firstFailure ??= summary.firstFailure;
      if (summary.refreshed === 0) break;
    }
    const tickMs = Number(process.hrtime.bigint() - started) / 1e6;
    const cpu = process.cpuUsage(cpuBefore);
    const stats = await fake.stats();
    await seeder.delete(dueIds);
    if (firstFailure) reportProgress(`first failure: ${firstFailure}`);
    return {
      size,
      round,
      tickMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      ticks,
      refreshed,
      tokenRequests: stats.refreshRequests,
      failed,
      reused: stats.reusedRefreshTokens,
    };
  };

  // One unrecorded tick first, so JIT warm-up and first connections do not land on the smallest size.
  await runRound(0, 0);

  const samples: TickSample[] = [];
  const dueQueryMs: Record<number, number> = {};
  const seedSeconds: Record<number, number> = {};
  let stored = 0;
  let filler = 0;
  for (const size of params.sizes) {
    const target = Math.max(0, size - params.due);
    const seedStarted = Date.now();
    while (stored < target) {
      const count = Math.min(100_000, target - stored);
      const now = Date.now();
      const rows: SeedRow[] = Array.from({ length: count }, () => {
        const id = String(100_000_000 + filler++);
        // Spread over the next 3 to 4 hours, validated in the last few minutes: neither due nor overdue.
        return {
          userId: id,
          accessToken: `a${id}${'x'.repeat(21)}`,
          refreshToken: `r${id}${'y'.repeat(21)}`,
          expiresAt: now + 3 * 3600_000 + (filler % 3_600_000),
          obtainedAt: now - 600_000,
          lastValidatedAt: now - (filler % 300_000),
        };
      });
      await seeder.insert(rows);
      stored += count;
    }
    seedSeconds[size] = (Date.now() - seedStarted) / 1000;
    reportProgress(`${size.toLocaleString('en-US')} stored (seeded in ${seedSeconds[size].toFixed(1)} s)`);

    const queryTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = process.hrtime.bigint();
      await repository.listDueForRefresh(Date.now() + 600_000, Date.now(), 500);
      queryTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    dueQueryMs[size] = median(queryTimes);

    for (let round = 1; round <= params.rounds; round++) {
      const sample = await runRound(size, round);
      samples.push(sample);
      reportProgress(
        `${size.toLocaleString('en-US')} stored, round ${round}/${params.rounds}: tick ${sample.tickMs.toFixed(0)} ms (CPU ${sample.cpuMs.toFixed(0)} ms), ` +
          `${sample.refreshed} refreshed, ${sample.tokenRequests} token requests, ${sample.failed} failed`,
      );
    }
  }
  const plan = (await dataSource.query(
    `EXPLAIN QUERY PLAN SELECT * FROM twitch_tokens WHERE status = 'valid' AND expires_at <= ? AND refresh_token IS NOT NULL AND retry_at <= ? ORDER BY expires_at, user_id LIMIT 500`,
    [Date.now() + 600_000, Date.now()],
  )) as { detail: string }[];
  return { tick: label, samples, dueQueryMs, seedSeconds, queryPlan: plan.map((row) => row.detail) };
}

/** The module's own tick when it has one; the stand-in otherwise. */
function chooseTick(ours: OurApp, repository: TokenRepository, concurrency: number): { tick: Tick; label: MaintenanceTickResult['tick'] } {
  const maintenanceClass = (library as Record<string, unknown>).TwitchAuthMaintenance as
    (abstract new (...args: never[]) => unknown) | undefined;
  if (maintenanceClass) {
    const maintenance = ours.app.get(maintenanceClass) as {
      runNow(): Promise<{ refreshed: number; failed: number; firstFailure: string | null }>;
    };
    if (typeof maintenance.runNow === 'function')
      return { tick: { run: () => maintenance.runNow() }, label: 'TwitchAuthMaintenance.runNow()' };
  }
  const standIn: Tick = {
    async run() {
      const due = await repository.listDueForRefresh(Date.now() + 600_000, Date.now(), 1_000_000);
      let refreshed = 0;
      let failed = 0;
      let firstFailure: string | null = null;
      await forEachConcurrently(due, concurrency, async (row) => {
        try {
          await ours.tokens.refresh(row.userId);
          refreshed++;
        } catch (error) {
          failed++;
          firstFailure ??= error instanceof Error ? error.message : String(error);
        }
      });
      return { refreshed, failed, firstFailure };
    },
  };
  return { tick: standIn, label: 'stand-in: due-query + TokenService.refresh, concurrency 8' };
}

runAsChild(main);
