import { jest } from '@jest/globals';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import {
  InMemoryTokenRepository,
  MAINTENANCE_TIMER_NAME,
  TwitchAuthEvent,
  TwitchAuthHealthIndicator,
  TwitchAuthMaintenance,
  TwitchAuthModule,
  type StoredToken,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { TokenRefresher } from '../../src/twitch-auth/tokens/token-refresher.js';
import { fakeOptions } from '../support/app.js';
import { captureLogger, capturedLogs } from '../support/log-capture.js';
import { startFake } from '../support/secrets-guard.js';
import { advance, settle, sleepReal, useFakeClock } from './support/clock.js';
import { gated } from './support/gated-repository.js';
import { maintainedApp, refreshRequests, validationsOf } from './support/maintained-app.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let fake: FakeTwitch;
afterEach(async () => {
  await fake?.close();
  jest.useRealTimers();
});

describe('scheduled maintenance (fake clock)', () => {
  it('refreshes every due token once per lifetime, inside its last refreshBeforeExpirySeconds, reusing nothing', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now(), accessTokenTtlSeconds: 1200 });
    const t = await maintainedApp(fake);
    try {
      const users = ['101', '102', '103'];
      for (const userId of users) {
        const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
        await t.tokens.addUser(issued.accessToken, issued.refreshToken);
      }
      const t0 = Date.now();
      await advance(9 * MINUTE, [t.maintenance]);
      expect(refreshRequests(fake, t0)).toHaveLength(0);

      // Lifetimes are 20 min and refreshBeforeExpirySeconds 10 min: one refresh per user in [10, 12) min, then in [20, 29) min.
      for (const window of [3 * MINUTE, 17 * MINUTE]) {
        const before = new Map<string, StoredToken>();
        for (const userId of users) before.set(userId, (await t.repository.get(userId))!);
        const start = Date.now();
        await advance(window, [t.maintenance]);
        const requests = refreshRequests(fake, start);
        expect(requests.map((r) => r.form.refresh_token).sort()).toEqual(users.map((u) => before.get(u)!.refreshToken).sort());
        for (const request of requests) {
          const replaced = [...before.values()].find((row) => row.refreshToken === request.form.refresh_token)!;
          const expiresAt = fake.tokenInfo(replaced.accessToken)!.expiresAt!;
          expect(request.status).toBe(200);
          expect(request.at).toBeGreaterThanOrEqual(expiresAt - 10 * MINUTE);
          expect(request.at).toBeLessThan(expiresAt);
        }
        for (const userId of users) {
          const row = (await t.repository.get(userId))!;
          expect(row.accessToken).not.toBe(before.get(userId)!.accessToken);
          expect(fake.isValid(row.accessToken)).toBe(true);
        }
      }
      expect(fake.reusedRefreshTokens).toEqual([]);
      expect(t.maintenance.status().totals).toMatchObject({ refreshed: 6, failed: 0, reauthRequired: 0 });
    } finally {
      await t.close();
    }
  });

  it('detects a grant revoked at Twitch within one validation period and reports it once, across two instances', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now() });
    const shared = new InMemoryTokenRepository();
    const a = await maintainedApp(fake, {}, { storage: shared });
    const b = await maintainedApp(fake, {}, { storage: shared });
    try {
      const revoked = fake.issueToken({ userId: '201', scopes: ['chat:read'] });
      const kept = fake.issueToken({ userId: '202', scopes: ['chat:read'] });
      await a.tokens.addUser(revoked.accessToken, revoked.refreshToken);
      await a.tokens.addUser(kept.accessToken, kept.refreshToken);
      const validatedAt = Date.now();
      await advance(10 * MINUTE, [a.maintenance, b.maintenance]);
      fake.revokeUser('201');
      await advance(2 * HOUR, [a.maintenance, b.maintenance]);

      const revocations = [...a.revocations, ...b.revocations];
      expect(revocations).toHaveLength(1);
      expect(revocations[0]!.userId).toBe('201');
      expect(revocations[0]!.at).toBeLessThanOrEqual(validatedAt + HOUR);
      expect([...a.events, ...b.events].filter((e) => e.name === TwitchAuthEvent.TokenRevoked)).toHaveLength(1);
      expect((await a.tokens.getTokenInfo('201'))!.status).toBe('reauth_required');
      // addUser validated each token once; after that only the scheduler did.
      expect(validationsOf(fake, revoked.accessToken).map((r) => r.status)).toEqual([200, 401]);

      // The live token: validated once per hour by one of the two instances, never twice, never late.
      const checks = validationsOf(fake, kept.accessToken)
        .slice(1)
        .map((r) => r.at);
      expect(checks).toHaveLength(2);
      expect(checks[0]! - validatedAt).toBeLessThanOrEqual(HOUR);
      expect(checks[1]! - checks[0]!).toBeLessThanOrEqual(HOUR);
      expect((await a.tokens.getTokenInfo('202'))!.status).toBe('valid');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('validates tokens at startup, and the app token on the same period (replacing a dead one)', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now() });
    const t = await maintainedApp(fake);
    try {
      const issued = fake.issueToken({ userId: '301', scopes: ['chat:read'] });
      await t.tokens.addToken('301', issued.accessToken, issued.refreshToken, ['chat:read']);
      await advance(1000, [t.maintenance]);
      expect(validationsOf(fake, issued.accessToken)).toHaveLength(1);
      expect((await t.tokens.getTokenInfo('301'))!.lastValidatedAt).not.toBeNull();

      const app = await t.tokens.getAppToken();
      await advance(50 * MINUTE, [t.maintenance]);
      expect(validationsOf(fake, app.accessToken)).toHaveLength(0);
      await advance(10 * MINUTE, [t.maintenance]);
      expect(validationsOf(fake, app.accessToken)).toHaveLength(1);
      expect((await t.tokens.getAppToken()).accessToken).toBe(app.accessToken);

      fake.revokeToken(app.accessToken);
      await advance(HOUR, [t.maintenance]);
      expect(validationsOf(fake, app.accessToken)).toHaveLength(2);
      const replacement = await t.tokens.getAppToken();
      expect(replacement.accessToken).not.toBe(app.accessToken);
      expect(fake.isValid(replacement.accessToken)).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('never re-enters a tick that overruns: later ticks are skipped and logged until it ends', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now() });
    const { repository, open } = gated();
    const t = await maintainedApp(fake, {}, { storage: repository });
    try {
      const logsBefore = capturedLogs.length;
      await jest.advanceTimersByTimeAsync(1000);
      expect(t.maintenance.status().running).toBe(true);
      expect(t.maintenance.runNow()).toBe(t.maintenance.runNow());
      await jest.advanceTimersByTimeAsync(6 * MINUTE);
      const skipped = t.maintenance.status().skippedTicks;
      expect(skipped).toBeGreaterThanOrEqual(5);
      expect(repository.refreshQueries).toBe(1);
      expect(capturedLogs.slice(logsBefore).filter((line) => line.includes('tick skipped'))).toHaveLength(skipped);

      open();
      await settle(t.maintenance);
      expect(t.maintenance.status()).toMatchObject({ ticks: 1, running: false });
      // Ticks resume on the timer, each reading the due tokens once: nothing ran twice.
      await advance(70_000, [t.maintenance]);
      const { ticks } = t.maintenance.status();
      expect(ticks).toBeGreaterThanOrEqual(2);
      expect(repository.refreshQueries).toBe(ticks);
    } finally {
      await t.close();
    }
  });

  it('a transient failure backs off that one token; the others are refreshed in the same tick', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now(), accessTokenTtlSeconds: 1200 });
    const t = await maintainedApp(
      fake,
      { concurrency: 2 },
      { twitch: { idBaseUrl: fake.idBaseUrl, helixBaseUrl: fake.helixBaseUrl, timeoutMs: 300 } },
    );
    t.app.get(TokenRefresher).timings.attempts = 1;
    try {
      const users = ['401', '402', '403', '404', '405'];
      for (const userId of users) {
        const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
        await t.tokens.addUser(issued.accessToken, issued.refreshToken);
      }
      // All five fall due at once (10 min before expiry); the first refresh request then hangs until its timeout.
      await advance(10 * MINUTE, [t.maintenance]);
      expect(refreshRequests(fake)).toHaveLength(0);
      fake.failNext('token', 1, 'timeout', { grantType: 'refresh_token' });
      const summary = await t.maintenance.runNow();

      expect(summary).toMatchObject({ refreshed: 4, failed: 1, error: null });
      const rows = await Promise.all(users.map(async (userId) => (await t.repository.get(userId))!));
      const failed = rows.filter((row) => row.failureCount > 0);
      expect(failed).toHaveLength(1);
      expect(failed[0]!.retryAt).toBeGreaterThan(Date.now());
      expect(summary.firstFailure).toContain(`user ${failed[0]!.userId}`);

      const requests = refreshRequests(fake).length;
      await t.maintenance.runNow();
      expect(refreshRequests(fake)).toHaveLength(requests);

      // Its backoff (30 s) has passed by the second tick from now at the latest.
      await advance(2 * MINUTE + 15_000, [t.maintenance]);
      expect(refreshRequests(fake)).toHaveLength(requests + 1);
      const recovered = (await t.repository.get(failed[0]!.userId))!;
      expect(recovered).toMatchObject({ failureCount: 0, retryAt: 0 });
      expect(fake.isValid(recovered.accessToken)).toBe(true);
      expect(fake.reusedRefreshTokens).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('stalled maintenance timer (fake clock)', () => {
  it('is reported down when no tick started for over three periods, and up again once the next tick runs', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now() });
    const t = await maintainedApp(fake);
    try {
      const health = t.app.get(TwitchAuthHealthIndicator);
      await advance(3 * MINUTE, [t.maintenance]);
      expect((await health.isHealthy())['twitch-auth']).toMatchObject({ status: 'up', stalled: false });

      // As after a suspended VM or a long-blocked event loop: the clock moved, no timer fired.
      jest.setSystemTime(Date.now() + 10 * MINUTE);
      const stalled = (await health.isHealthy())['twitch-auth'];
      expect(stalled).toMatchObject({ status: 'down', stalled: true, overdueValidation: 0, overdueRefresh: 0 });
      expect(stalled.message).toBe('The maintenance timer has not started a tick for over three periods.');

      await advance(2 * MINUTE, [t.maintenance]);
      expect((await health.isHealthy())['twitch-auth']).toMatchObject({ status: 'up', stalled: false });
    } finally {
      await t.close();
    }
  });
});

describe('maintenance timers and shutdown (fake clock)', () => {
  it('leaves no timer behind on close, and a closed app makes no more requests', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now() });
    const t = await maintainedApp(fake);
    const issued = fake.issueToken({ userId: '501', scopes: ['chat:read'] });
    await t.tokens.addToken('501', issued.accessToken, issued.refreshToken, ['chat:read']);
    expect(jest.getTimerCount()).toBeGreaterThan(0);
    await advance(2 * MINUTE, [t.maintenance]);
    expect(validationsOf(fake, issued.accessToken)).toHaveLength(1);

    await t.close();
    expect(jest.getTimerCount()).toBe(0);
    expect(t.maintenance.status().nextTickAt).toBeNull();
    const requests = fake.requests.length;
    await jest.advanceTimersByTimeAsync(3 * HOUR);
    await sleepReal(50);
    expect(fake.requests).toHaveLength(requests);
  });

  it('a tick in progress at shutdown starts no new token, and close waits for it', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now() });
    const { repository, open } = gated();
    const t = await maintainedApp(fake, {}, { storage: repository });
    const issued = fake.issueToken({ userId: '502', scopes: ['chat:read'] });
    await t.tokens.addToken('502', issued.accessToken, issued.refreshToken, ['chat:read']);
    await jest.advanceTimersByTimeAsync(1000);
    expect(t.maintenance.status().running).toBe(true);

    let closed = false;
    const closing = t.close().then(() => (closed = true));
    await sleepReal(20);
    expect(closed).toBe(false);
    open();
    await closing;
    expect(jest.getTimerCount()).toBe(0);
    expect(repository.validationQueries).toBe(0);
    expect(fake.requests).toHaveLength(0);
  });

  it('registers its timer with SchedulerRegistry when the app imported ScheduleModule.forRoot(), and removes it on close', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now() });
    @Module({
      imports: [
        ScheduleModule.forRoot(),
        EventEmitterModule.forRoot(),
        TwitchAuthModule.forRoot(fakeOptions(fake, { maintenance: { enabled: true } })),
      ],
    })
    class ScheduledRoot {}
    const app = await NestFactory.create(ScheduledRoot, { logger: captureLogger, abortOnError: false });
    await app.init();
    const registry = app.get(SchedulerRegistry);
    const maintenance = app.get(TwitchAuthMaintenance);
    expect(registry.getTimeouts()).toEqual([MAINTENANCE_TIMER_NAME]);
    expect(jest.getTimerCount()).toBe(1);
    await advance(3 * MINUTE, [maintenance]);
    expect(maintenance.status().ticks).toBeGreaterThanOrEqual(3);
    expect(registry.getTimeouts()).toEqual([MAINTENANCE_TIMER_NAME]);
    expect(jest.getTimerCount()).toBe(1);

    await app.close();
    expect(registry.getTimeouts()).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('with maintenance disabled starts no timer, yet runNow() does a tick on demand', async () => {
    useFakeClock();
    fake = await startFake({ now: () => Date.now() });
    const t = await maintainedApp(fake, { enabled: false });
    try {
      expect(jest.getTimerCount()).toBe(0);
      const issued = fake.issueToken({ userId: '601', scopes: ['chat:read'] });
      await t.tokens.addToken('601', issued.accessToken, issued.refreshToken, ['chat:read']);
      await jest.advanceTimersByTimeAsync(2 * HOUR);
      expect(fake.requests).toHaveLength(0);
      expect(await t.maintenance.runNow()).toMatchObject({ validated: 1, failed: 0, error: null });
      expect(t.maintenance.status()).toMatchObject({ enabled: false, ticks: 1, nextTickAt: null });
    } finally {
      await t.close();
    }
  });
});

describe('tick budget (real clock)', () => {
  it('stops a long validation pass part-way, and the next tick refreshes a due token before validating the rest', async () => {
    // Every answer takes 100 ms and one token is worked on at a time, so 40 validations need 4 s: far beyond one
    // tick's budget (three quarters of the 1 s period).
    fake = await startFake({ latencyMs: 100 });
    const t = await maintainedApp(fake, { enabled: false, tickSeconds: 1, concurrency: 1, refreshBeforeExpirySeconds: 600 });
    try {
      const backlog = Array.from({ length: 40 }, (_, i) => String(800 + i));
      for (const userId of backlog) {
        const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
        await t.tokens.addToken(userId, issued.accessToken, issued.refreshToken, ['chat:read']);
      }
      const logsBefore = capturedLogs.length;
      const first = await t.maintenance.runNow();
      expect(first).toMatchObject({ budgetExhausted: true, refreshed: 0, failed: 0, error: null });
      expect(first.validated).toBeGreaterThan(0);
      expect(first.validated).toBeLessThan(backlog.length);
      expect(capturedLogs.slice(logsBefore).some((line) => line.includes('used up its 750 ms budget'))).toBe(true);

      // A token that falls due for refresh meanwhile (a 2 s life is due after half of it) goes first in the next
      // tick, ahead of the remaining validations.
      const due = fake.issueToken({ userId: '899', scopes: ['chat:read'] });
      await t.tokens.addToken('899', due.accessToken, due.refreshToken, ['chat:read'], { expiresAt: new Date(Date.now() + 2000) });
      await sleepReal(1100);
      const secondStart = Date.now();
      const second = await t.maintenance.runNow();
      expect(second).toMatchObject({ budgetExhausted: true, refreshed: 1, failed: 0 });
      const secondRequests = fake.requests.filter((r) => r.at >= secondStart);
      expect(secondRequests[0]).toMatchObject({ path: '/oauth2/token', grantType: 'refresh_token' });

      // Later ticks carry on where the earlier ones stopped until the backlog is gone, validating each token once.
      for (let tick = 0; tick < 20 && (await t.maintenance.runNow()).budgetExhausted; tick += 1);
      const { totals } = t.maintenance.status();
      expect(totals).toMatchObject({ validated: backlog.length, refreshed: 1, failed: 0 });
      for (const userId of backlog) expect(validationsOf(fake, (await t.repository.get(userId))!.accessToken)).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});
