import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from '../support/build.js';
import { killAllDemos } from '../support/demo-process.js';
import { tempDir } from '../support/temp.js';
import { DemoFleet, damageTable, waitFor } from './support/demo-fleet.js';

/**
 * Two demo processes share one SQLite file; one runs its wall clock two
 * minutes ahead (a preload shifts `Date.now()` and `new Date()` in that
 * process only). Leases last 40 s, so to the fast process every lease the
 * other one takes looks lapsed the moment it is written. A lease must never
 * be judged by comparing its deadline with this process's clock: the fast
 * process must wait, and no refresh token may ever be presented twice.
 * Twitch answers refreshes 0.5 s late, so refreshes hold leases long enough for
 * the other process to run into them.
 */
const TTL_MS = 10_000;
const REFRESH_BEFORE_MS = 5_000;
const AHEAD_MS = 120_000;
const ANSWER_DELAY_MS = 500;
const USERS = 50;
/** How long the two maintain the users: four token lifetimes. */
const RUN_MS = 4 * TTL_MS;
const CLOCK_AHEAD = join(ROOT, 'test/support/clock-ahead.mjs');

describe('two demo processes on one SQLite file, one with its clock 2 minutes ahead', () => {
  const dir = tempDir('twitch-auth-skew-');
  let fleet: DemoFleet | null = null;
  beforeAll(async () => {
    fleet = await DemoFleet.start(`sqlite:${dir.path}/shared.sqlite`, { ttlMs: TTL_MS, refreshBeforeMs: REFRESH_BEFORE_MS });
  }, 240_000);
  afterAll(async () => {
    await killAllDemos();
    await fleet?.stop();
    dir.remove();
  }, 60_000);

  it('maintain 50 users for four token lifetimes without reusing a refresh token or losing a user', async () => {
    const current = fleet!;
    const ahead: Record<string, string> = { NODE_OPTIONS: `--import=${CLOCK_AHEAD}`, CLOCK_AHEAD_MS: String(AHEAD_MS) };
    const demos = await current.startDemos(['on time', '2 min ahead'], dir.path, (name) => (name === '2 min ahead' ? ahead : {}));
    current.proxy.answerDelayMs = ANSWER_DELAY_MS;
    const from = current.mark();
    const startedAt = Date.now();
    await current.seed(USERS);
    // A fixed run, not a wait for a count: the old lease code breaks chains, and the numbers must still be printed.
    await sleep(RUN_MS);
    // Every user holds a valid token once the refreshes under way have landed (bounded: a loaded machine may be a moment late).
    await waitFor(
      'every user to hold a valid token',
      async () => (await current.damageSince(from)).withoutValidToken === 0,
      3 * TTL_MS,
    ).catch(() => undefined);
    const damage = await current.damageSince(from);
    const statuses = await Promise.all(demos.map((demo) => demo.maintenance()));
    const takeovers = demos.map((demo) => demo.output.split('\n').filter((line) => line.includes('Took over the lease')).length);
    const { chains, strays } = current.chains();
    const counts = [...chains.values()].map((chain) => chain.length);
    await Promise.all(demos.map((demo) => demo.stop('SIGTERM')));

    console.info(
      `${damageTable('clock skew (+120 s on one of two processes), 50 users, SQLite', [
        { scenario: 'clock 2 min ahead', damage, seconds: Math.round((Date.now() - startedAt) / 1000) },
      ])}\nrefreshes per user min ${Math.min(...counts)} max ${Math.max(...counts)}, ${current.proxy.exchanges.length} in total, ` +
        `${strays.length} off every chain; refreshed per process (on time / ahead): ${statuses.map((s) => s.totals.refreshed).join('/')}; ` +
        `leases taken over (on time / ahead): ${takeovers.join('/')}`,
    );
    expect(damage).toEqual({ reusedRefreshTokens: 0, deadRefreshes: 0, withoutValidToken: 0, reauthRequired: 0 });
    expect(strays).toEqual([]);
    // Both refreshed, so each held leases the other ran into: the one on time its own rows, the fast one every row it saw due.
    for (const status of statuses) expect(status.totals.refreshed).toBeGreaterThan(0);
  }, 180_000);
});
