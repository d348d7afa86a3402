import { jest } from '@jest/globals';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TwitchAuthConfigError, TwitchAuthModule, type TwitchAuthModuleOptions } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { ensureBuilt } from '../support/build.js';
import { DemoProcess, killAllDemos } from '../support/demo-process.js';
import { captureLogger } from '../support/log-capture.js';
import { caught, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { advance, useFakeClock } from '../scheduling/support/clock.js';
import { maintainedApp } from '../scheduling/support/maintained-app.js';

/** The largest tickSeconds for the default validateEverySeconds (3600): two tick gaps of 1.1 × tickSeconds fit in it. */
const MAX_TICK_SECONDS = 3600 / 2.2;
const TICK_MESSAGE =
  /^maintenance\.tickSeconds must be at most 1636\.36 \(validateEverySeconds \/ 2\.2\) so every token is still validated within validateEverySeconds \(3600\) when a tick is skipped; got /;

/** Boots `TwitchAuthModule.forRootAsync` with `options` from its factory; resolves with the boot error, or null once it booted. */
async function bootAsync(options: TwitchAuthModuleOptions): Promise<Error | null> {
  @Module({ imports: [TwitchAuthModule.forRootAsync({ useFactory: () => options })] })
  class AsyncRoot {}
  try {
    const app = await NestFactory.createApplicationContext(AsyncRoot, { logger: captureLogger, abortOnError: false });
    await app.close();
    return null;
  } catch (error) {
    return error as Error;
  }
}

const base = { clientId: 'x', maintenance: { enabled: false } };

describe('option bounds: every token validated within the hour, every timer within what Node can wait', () => {
  it.each([[7200], [3e6], [1636.37]])(
    'maintenance.tickSeconds %p is refused, naming the bound and why (forRoot and forRootAsync)',
    async (tickSeconds) => {
      const options = { ...base, maintenance: { enabled: false, tickSeconds } };
      const message = new RegExp(TICK_MESSAGE.source + `${tickSeconds}\\.$`);
      expect(() => TwitchAuthModule.forRoot(options)).toThrow(TwitchAuthConfigError);
      expect(() => TwitchAuthModule.forRoot(options)).toThrow(message);
      const error = await bootAsync(options);
      expect(error).toBeInstanceOf(TwitchAuthConfigError);
      expect(error!.message).toMatch(message);
    },
  );

  it('the largest allowed tickSeconds (validateEverySeconds / 2.2) and the shown, rounded-down bound are accepted', async () => {
    for (const tickSeconds of [MAX_TICK_SECONDS, 1636.36]) {
      const options = { ...base, maintenance: { enabled: false, tickSeconds } };
      expect(() => TwitchAuthModule.forRoot(options)).not.toThrow();
      expect(await bootAsync(options)).toBeNull();
    }
  });

  it('the bound follows validateEverySeconds: 600 allows up to 272.72', () => {
    const at = (tickSeconds: number) => () =>
      TwitchAuthModule.forRoot({ ...base, maintenance: { enabled: false, validateEverySeconds: 600, tickSeconds } });
    expect(at(600 / 2.2)).not.toThrow();
    expect(at(272.72)).not.toThrow();
    expect(at(272.73)).toThrow(
      /^maintenance\.tickSeconds must be at most 272\.72 \(validateEverySeconds \/ 2\.2\) so every token is still validated within validateEverySeconds \(600\) when a tick is skipped; got 272\.73\.$/,
    );
  });

  it.each([
    [
      { maintenance: { validateEverySeconds: 3601 } },
      /^maintenance\.validateEverySeconds is 3601; Twitch requires every token to be validated at least hourly, so it must be at most 3600\.$/,
    ],
    [
      { maintenance: { refreshBeforeExpirySeconds: 3e6 } },
      /^maintenance\.refreshBeforeExpirySeconds must be at most 2147483 \(seconds; a Node timer waits at most 2\^31-1 ms, about 24\.8 days\); got 3000000\.$/,
    ],
    [{ oauth: { stateTtlSeconds: 2147484 } }, /^oauth\.stateTtlSeconds must be at most 2147483 /],
    [{ eventSub: { secret: 'a-webhook-secret', maxMessageAgeSeconds: 3e6 } }, /^eventSub\.maxMessageAgeSeconds must be at most 2147483 /],
    [
      { twitch: { timeoutMs: 2 ** 31 } },
      /^twitch\.timeoutMs must be at most 120000 \(2 minutes\): leases last 4 × timeoutMs and shutdown waits for about as long for a refresh in flight; got 2147483648\.$/,
    ],
    [{ twitch: { timeoutMs: 120_001 } }, /^twitch\.timeoutMs must be at most 120000 /],
  ])('%j is refused with a message naming the bound', (overrides, message) => {
    const extra = overrides as Partial<TwitchAuthModuleOptions>;
    const options: TwitchAuthModuleOptions = { ...base, ...extra, maintenance: { enabled: false, ...extra.maintenance } };
    expect(() => TwitchAuthModule.forRoot(options)).toThrow(message);
  });

  it('the largest allowed durations are accepted', () => {
    expect(() =>
      TwitchAuthModule.forRoot({
        ...base,
        maintenance: { enabled: false, refreshBeforeExpirySeconds: 2147483, validateEverySeconds: 3600 },
        oauth: { stateTtlSeconds: 2147483 },
        eventSub: { secret: 'a-webhook-secret', maxMessageAgeSeconds: 2147483 },
        twitch: { timeoutMs: 120_000 },
      }),
    ).not.toThrow();
  });

  describe('the demo app', () => {
    const dir = tempDir('twitch-auth-bounds-');
    beforeAll(() => ensureBuilt(), 200_000);
    afterAll(async () => {
      // Should the demo boot after all (the bound not enforced), it must not outlive the test.
      await killAllDemos();
      dir.remove();
    });

    it('stops at startup on TWITCH_AUTH_TICK_SECONDS=7200 with the message', async () => {
      const env = { DATABASE_URL: `sqlite:${dir.path}/demo.sqlite`, TWITCH_AUTH_TICK_SECONDS: '7200' };
      const error = await caught(DemoProcess.start('tick-7200', env, dir.path));
      expect(error.message).toMatch(/exited during startup/);
      expect(error.message).toMatch(/maintenance\.tickSeconds must be at most 1636\.36 \(validateEverySeconds \/ 2\.2\) .*; got 7200\./);
    }, 60_000);
  });

  describe('the scheduler at the largest tickSeconds (fake clock)', () => {
    let fake: FakeTwitch;
    afterEach(async () => {
      await fake?.close();
      jest.useRealTimers();
    });

    it('never sets a timer longer than one tick gap, and validates each token with a whole tick gap to spare before the hour', async () => {
      useFakeClock();
      const delays: number[] = [];
      const setTimeoutSpy = jest.spyOn(globalThis, 'setTimeout');
      fake = await startFake({ now: () => Date.now(), accessTokenTtlSeconds: 24 * 3600 });
      const t = await maintainedApp(fake, { tickSeconds: MAX_TICK_SECONDS });
      try {
        const issued = fake.issueToken({ userId: '7001', scopes: ['chat:read'] });
        await t.tokens.addUser(issued.accessToken, issued.refreshToken);
        const start = Date.now();
        const nextTickIn: number[] = [];
        for (let step = 0; step < 8 * 60; step++) {
          await advance(60_000, [t.maintenance], 60_000);
          const next = t.maintenance.status().nextTickAt;
          if (next) nextTickIn.push(next.getTime() - Date.now());
        }
        delays.push(...setTimeoutSpy.mock.calls.map((call) => Number(call[1] ?? 0)));

        const maxGapMs = MAX_TICK_SECONDS * 1.1 * 1000;
        // The spy saw the tick timers (at least 0.9 × tickSeconds each), and none longer than a gap.
        expect(delays.filter((delay) => delay >= MAX_TICK_SECONDS * 0.9 * 1000).length).toBeGreaterThanOrEqual(15);
        expect(Math.max(...delays)).toBeLessThanOrEqual(maxGapMs);
        expect(Math.max(...nextTickIn)).toBeLessThanOrEqual(maxGapMs);
        expect(t.maintenance.status().ticks).toBeGreaterThanOrEqual(15);

        // Validation instants (fake clock): the one at addUser, then the ticks'.
        const validatedAt = fake.requests.filter((r) => r.path === '/oauth2/validate' && r.at >= start - 1).map((r) => r.at);
        expect(validatedAt.length).toBeGreaterThanOrEqual(15);
        const gaps = validatedAt.slice(1).map((at, i) => at - validatedAt[i]!);
        // Each gap leaves room for one more tick gap (a skipped tick) before validateEverySeconds.
        expect(Math.max(...gaps)).toBeLessThanOrEqual(3600_000 - maxGapMs);
      } finally {
        setTimeoutSpy.mockRestore();
        await t.close();
      }
    }, 120_000);
  });
});
