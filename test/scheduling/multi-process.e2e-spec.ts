import { setTimeout as sleep } from 'node:timers/promises';
import { requirePostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';
import { DemoProcess, killAllDemos } from '../support/demo-process.js';
import { DemoFleet, waitFor } from './support/demo-fleet.js';
import { leasesByPid, storedMatchesChains, timingViolations } from './support/refresh-chains.js';

/**
 * Separate `node dist/main.js` demo processes share one database and maintain
 * many users' tokens against one FakeTwitch whose access tokens live 10 s.
 * Every refresh grant passes a recording proxy, so the test follows each
 * user's chain of refresh tokens: each generation (the seeded token, then
 * each issued one) is presented at most once, which makes "exactly one
 * refresh per cycle" exact: every generation is refreshed once, in the last
 * half of its life (after it fell due, before it expired).
 */
// Short enough for many cycles in a test, long enough that a 2-core CI machine running other suites meanwhile
// still refreshes 200 users across four processes within the window (5 s: 4 s once failed there).
const TTL_MS = 10_000;
const REFRESH_BEFORE_MS = 5_000;
/**
 * A lease of a killed process is taken over once the survivors watched it unchanged for the lease time,
 * max(30 s, 4 x twitch.timeoutMs) with the demo's 10 s default timeout, plus the 10 s takeover grace.
 */
const LEASE_TAKEOVER_MS = 40_000 + 10_000;

const cwd = tempDir('twitch-auth-demo-');
afterAll(async () => {
  await killAllDemos();
  cwd.remove();
}, 60_000);

/** The fleet of `support/demo-fleet.ts`, with the checks this test makes of exactly-once refreshing. */
class Scenario extends DemoFleet {
  static open(databaseUrl: string): Promise<Scenario> {
    return Scenario.start(databaseUrl, { ttlMs: TTL_MS, refreshBeforeMs: REFRESH_BEFORE_MS });
  }

  /** Also checks that the demos migrated the empty database between them (one at a time, none retrying). */
  override async startDemos(names: string[], cwd: string): Promise<DemoProcess[]> {
    const demos = await super.startDemos(names, cwd);
    for (const demo of demos)
      expect({ name: demo.name, retried: demo.output.includes('Unable to connect to the database') }).toEqual({
        name: demo.name,
        retried: false,
      });
    return demos;
  }

  /** Nothing lost: every user valid in storage, every stored token valid at Twitch right now, every live instance healthy. */
  async expectAllValid(live: DemoProcess[]): Promise<void> {
    const rows = await this.seeder.repository.list();
    expect(rows).toHaveLength(this.seeds.size);
    expect(rows.filter((row) => row.status !== 'valid')).toEqual([]);
    expect(rows.filter((row) => !this.fake.isValid(row.accessToken)).map((row) => row.userId)).toEqual([]);
    for (const demo of live) {
      // Healthy once settled: on a loaded machine one tick may just have failed or run late, which the
      // indicator rightly reports as down for that moment. Status and body are kept so a failure shows why.
      let seen = { name: demo.name, status: 0, body: null as unknown };
      await waitFor(
        `${demo.name} to report healthy`,
        async () => {
          const health = await fetch(`${demo.url}/health`);
          seen = { name: demo.name, status: health.status, body: await health.json() };
          return health.status === 200;
        },
        15_000,
      ).catch(() => undefined);
      if (seen.status !== 200) console.info(`${demo.name} unhealthy: ${JSON.stringify(seen.body)}`);
      expect(seen).toMatchObject({
        name: demo.name,
        status: 200,
        body: { info: { 'twitch-auth': { overdueValidation: 0, overdueRefresh: 0, reauthRequired: 0 } } },
      });
    }
  }

  /** How many refreshes each user had, and the least time any refresh left before its token expired (`excused` users aside). */
  refreshSummary(excused: Set<string> = new Set()): string {
    const { chains: all } = this.chains();
    const chains = new Map([...all].filter(([userId]) => !excused.has(userId)));
    const counts = [...all.values()].map((chain) => chain.length);
    const { leastSpareMs } = timingViolations(this.fake, this.seeds, chains, REFRESH_BEFORE_MS);
    return `refreshes per user min ${Math.min(...counts)} max ${Math.max(...counts)}; least time left before expiry ${leastSpareMs} ms`;
  }

  /** The exact assertions over the whole run; `excused` users may be late by up to `excusedLateMs`. */
  async expectExactlyOncePerGeneration(excused: Set<string> = new Set(), excusedLateMs = 0): Promise<void> {
    const { chains, heads, strays } = this.chains();
    expect(this.fake.reusedRefreshTokens).toEqual([]);
    expect(strays).toEqual([]);
    expect(this.proxy.exchanges.filter((e) => e.status !== 200)).toEqual([]);
    expect(this.fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(this.proxy.exchanges.length);
    expect(storedMatchesChains(await this.seeder.repository.list(), heads)).toBe(true);
    const { early, late } = timingViolations(this.fake, this.seeds, chains, REFRESH_BEFORE_MS);
    expect(early).toEqual([]);
    expect(late.filter((l) => !excused.has(l.userId) || l.lateMs > excusedLateMs)).toEqual([]);
  }
}

describe('four demo processes maintaining 200 users on one Postgres', () => {
  let postgres: ThrowawayPostgres | null = null;
  let scenario: Scenario | null = null;
  beforeAll(async () => {
    postgres = await requirePostgres('multi-process scheduling');
    if (postgres) scenario = await Scenario.open(postgres.url);
  }, 240_000);
  afterAll(async () => {
    await killAllDemos();
    await scenario?.stop();
    await postgres?.stop();
  }, 60_000);

  it('refresh every token generation exactly once, in time, reusing nothing, through a SIGKILL and a restart', async () => {
    if (!scenario) return;
    const { proxy } = scenario;
    const demos = await scenario.startDemos(['#1', '#2', '#3', '#4'], cwd.path);
    const seeder = scenario.seeder;
    await scenario.seed(200);

    // Phase 1: all four processes, until every user went through five refreshes.
    const phase1Start = Date.now();
    await scenario.waitForRefreshes(5, 0, 90_000);
    const phase1Ms = Date.now() - phase1Start;
    const statuses = await Promise.all(demos.map((demo) => demo.maintenance()));
    // The work is shared: a tick claims every due row it finds in batches, so a process whose ticks come just
    // after another's may find a generation already taken; even shares under a real backlog are B9m's to show.
    expect(statuses.filter((status) => status.totals.refreshed > 0).length).toBeGreaterThanOrEqual(2);

    // Kill one process mid-cycle. Twitch is held for a moment so no answer is on its way to the victim: where
    // refresh tokens are single-use, a process killed between Twitch's answer and its database write takes the
    // only copy of the new refresh token with it, and nothing can recover that.
    proxy.hold();
    const holdStart = Date.now();
    await waitFor('answers in flight to be delivered', () => proxy.inFlight === 0, 10_000);
    await waitFor(
      'every delivered refresh to be stored',
      async () => storedMatchesChains(await seeder.repository.list(), scenario!.chains().heads),
      10_000,
    );
    const leases = leasesByPid(await seeder.repository.list());
    const victim = demos.find((demo) => !leases.has(demo.pid)) ?? demos[0]!;
    await victim.stop('SIGKILL');
    const killedAt = Date.now();
    const stuck = new Set(leasesByPid(await seeder.repository.list()).get(victim.pid) ?? []);
    // Let the proxy see the dead process's sockets close, so its parked requests are dropped, never forwarded.
    await sleep(200);
    proxy.release();
    const holdMs = Date.now() - holdStart;

    // Phase 2: three survivors carry every user through two more refreshes (a user the victim had leased waits for its lease to be taken over).
    await scenario.waitForRefreshes(2, killedAt, 30_000 + (stuck.size > 0 ? LEASE_TAKEOVER_MS : 0));

    // Phase 3: the victim restarts and rejoins; two more refreshes of everyone.
    const restarted = await DemoProcess.start(`${victim.name} restarted`, scenario.env(), cwd.path);
    await scenario.waitForRefreshes(2, Date.now(), 30_000);
    // It rejoined: its ticks run cleanly. Whether a generation falls to it depends on whose tick comes first after
    // the generation falls due (batch claims take what is due); the exactly-once checks below cover every process.
    const rejoined = await restarted.maintenance();
    expect(rejoined.ticks).toBeGreaterThan(0);
    expect(rejoined.lastTickError).toBeNull();
    expect(rejoined.totals.failed).toBe(0);
    const live = [...demos.filter((demo) => demo !== victim), restarted];
    await scenario.expectAllValid(live);
    const ticks = await Promise.all(live.map((demo) => demo.tickReport()));
    await Promise.all(live.map((demo) => demo.stop('SIGTERM')));

    // Printed before the assertions, so a failing run shows how the schedulers fared.
    console.info(
      `multi-process Postgres: 200 users, 4 processes; phase 1 (5 cycles with all four) took ${phase1Ms} ms; ` +
        `${scenario.refreshSummary(stuck)}, ${proxy.exchanges.length} refreshes in total; ` +
        `killed ${victim.name} holding ${stuck.size} lease(s); Twitch held ${holdMs} ms, ${proxy.dropped} parked request(s) dropped; ` +
        `refreshed per process before the kill: ${statuses.map((s) => s.totals.refreshed).join('/')}; ticks: ${ticks.join('; ')}`,
    );
    // Only a user the victim held at its death may be late, and only until its lease lapsed.
    await scenario.expectExactlyOncePerGeneration(stuck, LEASE_TAKEOVER_MS);
  }, 180_000);
});

describe('two demo processes maintaining 50 users in one shared SQLite file', () => {
  const dir = tempDir('twitch-auth-sqlite-');
  let scenario: Scenario | null = null;
  beforeAll(async () => {
    scenario = await Scenario.open(`sqlite:${dir.path}/shared.sqlite`);
  }, 240_000);
  afterAll(async () => {
    await killAllDemos();
    await scenario?.stop();
    dir.remove();
  }, 60_000);

  it('refresh every token generation exactly once, in time, reusing nothing', async () => {
    const current = scenario!;
    const demos = await current.startDemos(['sqlite #1', 'sqlite #2'], cwd.path);
    await current.seed(50);
    await current.waitForRefreshes(3, 0, 60_000);
    const statuses = await Promise.all(demos.map((demo) => demo.maintenance()));
    await current.expectAllValid(demos);
    const ticks = await Promise.all(demos.map((demo) => demo.tickReport()));
    await Promise.all(demos.map((demo) => demo.stop('SIGTERM')));

    console.info(
      `multi-process SQLite: 50 users, 2 processes; ${current.refreshSummary()}; ` +
        `refreshed per process: ${statuses.map((s) => s.totals.refreshed).join('/')}; ticks: ${ticks.join('; ')}`,
    );
    await current.expectExactlyOncePerGeneration();
  }, 120_000);
});
