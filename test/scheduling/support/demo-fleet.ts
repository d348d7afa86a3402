import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredToken } from '../../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../../support/app.js';
import { ensureBuilt } from '../../support/build.js';
import { DemoProcess } from '../../support/demo-process.js';
import { startFake } from '../../support/secrets-guard.js';
import { RecordingProxy } from './recording-proxy.js';
import { fewestRefreshesSince, followChains, type SeededToken } from './refresh-chains.js';

/** Polls `condition` every 100 ms until it holds; throws after `timeoutMs`, naming `what`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await condition()); await sleep(100)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/** What a chaos scenario did to the users, counted from Twitch's side and the database's. */
export interface Damage {
  /** Refresh tokens presented to Twitch after they had been used once (FakeTwitch's count, during the scenario). */
  reusedRefreshTokens: number;
  /** Refresh grants Twitch refused with `Invalid refresh token` during the scenario: a dead refresh token was presented. */
  deadRefreshes: number;
  /** Users at the end whose row is not `valid` or whose stored access token Twitch does not accept. */
  withoutValidToken: number;
  /** Users marked `reauth_required` at the end. */
  reauthRequired: number;
}

/** The counters a scenario's damage is measured from. */
export interface DamageMark {
  reuses: number;
  exchanges: number;
}

/** Options of a fleet: the life of an access token, and how long before expiry the demos refresh. */
export interface FleetOptions {
  ttlMs: number;
  refreshBeforeMs: number;
}

/**
 * One FakeTwitch, its recording proxy, `node dist/main.js` demo processes on
 * one database, and a test-process app on that database that seeds users and
 * reads the rows: the stage of the chaos and clock-skew tests.
 */
export class DemoFleet {
  readonly seeds = new Map<string, SeededToken>();
  private seederApp: TestApp | null = null;

  /** Use `start` (on this class or a subclass), which starts FakeTwitch and the proxy first. */
  constructor(
    readonly fake: FakeTwitch,
    readonly proxy: RecordingProxy,
    readonly databaseUrl: string,
    readonly options: FleetOptions,
  ) {}

  static async start<Fleet extends DemoFleet>(
    this: new (fake: FakeTwitch, proxy: RecordingProxy, databaseUrl: string, options: FleetOptions) => Fleet,
    databaseUrl: string,
    options: FleetOptions,
  ): Promise<Fleet> {
    await ensureBuilt();
    const fake = await startFake({ accessTokenTtlSeconds: options.ttlMs / 1000 });
    return new this(fake, await RecordingProxy.start(fake.idBaseUrl), databaseUrl, options);
  }

  /** The demo's environment: Twitch behind the proxy, a 1 s tick, refresh and validation `refreshBeforeMs` ahead. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    const seconds = String(this.options.refreshBeforeMs / 1000);
    return {
      TWITCH_CLIENT_ID: this.fake.clientId,
      TWITCH_CLIENT_SECRET: this.fake.clientSecret!,
      TWITCH_ID_BASE_URL: this.proxy.url,
      TWITCH_HELIX_BASE_URL: this.fake.helixBaseUrl,
      DATABASE_URL: this.databaseUrl,
      TWITCH_AUTH_TICK_SECONDS: '1',
      TWITCH_AUTH_REFRESH_BEFORE_SECONDS: seconds,
      TWITCH_AUTH_VALIDATE_EVERY_SECONDS: seconds,
      ...extra,
    };
  }

  /** Starts the demos together on the empty database (they migrate it between them), then the seeding app. */
  async startDemos(names: string[], cwd: string, extraEnv: (name: string) => Record<string, string> = () => ({})): Promise<DemoProcess[]> {
    const demos = await Promise.all(names.map((name) => DemoProcess.start(name, this.env(extraEnv(name)), cwd)));
    this.seederApp ??= await createTestApp({ fake: this.fake, databaseUrl: this.databaseUrl });
    return demos;
  }

  get seeder(): TestApp {
    if (!this.seederApp) throw new Error('The seeding app opens after the demos started (startDemos).');
    return this.seederApp;
  }

  /** Stores generation 0 of `count` users, due in `ttlMs`. */
  async seed(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const userId = String(80_000 + i);
      const issued = this.fake.issueToken({ userId, scopes: ['chat:read'] });
      await this.seeder.tokens.addToken(userId, issued.accessToken, issued.refreshToken, ['chat:read'], {
        expiresAt: new Date(Date.now() + this.options.ttlMs),
      });
      this.seeds.set(userId, issued);
    }
  }

  rows(): Promise<StoredToken[]> {
    return this.seeder.repository.list();
  }

  chains() {
    return followChains(this.seeds, this.proxy.exchanges);
  }

  /** Waits until every user not in `except` had `times` successful refreshes since `since` (epoch ms). */
  waitForRefreshes(times: number, since: number, timeoutMs: number, except: ReadonlySet<string> = new Set()): Promise<void> {
    return waitFor(
      `${times} refreshes of every user`,
      () => {
        const chains = new Map([...this.chains().chains].filter(([userId]) => !except.has(userId)));
        return fewestRefreshesSince(chains, since) >= times;
      },
      timeoutMs,
    );
  }

  /** The counters now, to measure a scenario's damage from. */
  mark(): DamageMark {
    return { reuses: this.fake.reusedRefreshTokens.length, exchanges: this.proxy.exchanges.length };
  }

  /** The damage since `from`: Twitch's counts during the scenario, the database's state now. */
  async damageSince(from: DamageMark): Promise<Damage> {
    const rows = await this.rows();
    return {
      reusedRefreshTokens: this.fake.reusedRefreshTokens.length - from.reuses,
      deadRefreshes: this.proxy.exchanges.slice(from.exchanges).filter((e) => e.status === 400).length,
      withoutValidToken: rows.filter((row) => row.status !== 'valid' || !this.fake.isValid(row.accessToken)).length,
      reauthRequired: rows.filter((row) => row.status === 'reauth_required').length,
    };
  }

  async stop(): Promise<void> {
    await this.seederApp?.close();
    await this.proxy.close();
    await this.fake.close();
  }
}

/** Prints one table row per scenario: its damage, and how long it took. */
export function damageTable(title: string, rows: { scenario: string; damage: Damage; seconds: number; note?: string }[]): string {
  const header = ['scenario', 'reused', 'dead refresh', 'no valid token', 'reauth_required', 'seconds', 'note'];
  const lines = rows.map((r) => [
    r.scenario,
    String(r.damage.reusedRefreshTokens),
    String(r.damage.deadRefreshes),
    String(r.damage.withoutValidToken),
    String(r.damage.reauthRequired),
    String(r.seconds),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [title, format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)].join('\n');
}
