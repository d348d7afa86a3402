import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { HealthController } from '../../src/demo/health.controller.js';
import {
  InMemoryTokenRepository,
  TwitchAuthHealthIndicator,
  TwitchAuthMaintenance,
  TwitchAuthModule,
  TypeOrmTokenRepository,
  dataSourceOptionsFromUrl,
  type NewStoredToken,
  type TokenBacklogCounter,
  type TokenBacklogCounts,
  type TokenRepository,
} from '../../src/twitch-auth/index.js';
import { TokenBacklogReader } from '../../src/twitch-auth/scheduling/token-backlog.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, fakeOptions, type TestApp } from '../support/app.js';
import { captureLogger } from '../support/log-capture.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { T0 } from '../storage/token-fixtures.js';
import { CapturingLogger, seedTokens } from '../storage/typeorm-support.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let fake: FakeTwitch;
const dir = tempDir();
beforeAll(async () => {
  fake = await startFake();
});
afterAll(async () => {
  await fake.close();
  dir.remove();
});

/** A token FakeTwitch knows, stored with the bookkeeping a test wants (e.g. validated two hours ago). */
function fakeToken(userId: string, overrides: Partial<NewStoredToken> = {}): NewStoredToken {
  const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
  const now = Date.now();
  return {
    userId,
    login: null,
    accessToken: issued.accessToken,
    refreshToken: issued.refreshToken,
    scopes: ['chat:read'],
    expiresAt: now + issued.expiresIn * 1000,
    obtainedAt: now,
    lastValidatedAt: now,
    status: 'valid',
    intents: [],
    ...overrides,
  };
}

/** The indicator's verdict through the same walk a user's data goes: up, down on overdue work, degraded on dead grants. */
async function expectHealthLifecycle(t: TestApp): Promise<void> {
  const health = t.app.get(TwitchAuthHealthIndicator);
  const maintenance = t.app.get(TwitchAuthMaintenance);
  expect((await health.isHealthy())['twitch-auth']).toMatchObject({
    status: 'up',
    overdueValidation: 0,
    overdueRefresh: 0,
    reauthRequired: 0,
  });

  const twoHoursAgo = Date.now() - 2 * HOUR;
  await t.repository.save(fakeToken('h1', { lastValidatedAt: twoHoursAgo, obtainedAt: twoHoursAgo }));
  await t.repository.save(fakeToken('h2', { expiresAt: Date.now() + MINUTE, obtainedAt: Date.now() - 4 * HOUR }));
  await t.repository.save(fakeToken('h3', { lastValidatedAt: null }));
  const down = (await health.isHealthy('tokens')).tokens;
  expect(down).toMatchObject({ status: 'down', overdueValidation: 1, overdueRefresh: 1, reauthRequired: 0 });
  expect(down.message).toContain('hourly');

  fake.revokeUser('h1');
  expect(await maintenance.runNow()).toMatchObject({ refreshed: 1, validated: 1, reauthRequired: 1, failed: 0 });
  const degraded = (await health.isHealthy())['twitch-auth'];
  expect(degraded).toMatchObject({ status: 'degraded', overdueValidation: 0, overdueRefresh: 0, reauthRequired: 1, lastTickError: null });
  expect(degraded.lastTickAt).toEqual(expect.any(String));

  await t.tokens.removeUser('h1');
  expect((await health.isHealthy())['twitch-auth'].status).toBe('up');
}

describe('TwitchAuthHealthIndicator', () => {
  it('on the in-memory repository: up, down while tokens are overdue, degraded while a user must re-authorize', async () => {
    const t = await createTestApp({ fake });
    try {
      await expectHealthLifecycle(t);
    } finally {
      await t.close();
    }
  });

  it('on SQLite through TypeORM, counting with the due-query indexes', async () => {
    const t = await createTestApp({ fake, databaseUrl: `sqlite:${dir.path}/health.sqlite` });
    try {
      await expectHealthLifecycle(t);
    } finally {
      await t.close();
    }
  });

  it('is down with the reason when the storage cannot be read', async () => {
    const t = await createTestApp({ fake, databaseUrl: `sqlite:${dir.path}/broken.sqlite` });
    try {
      await t.app.get(DataSource).query('DROP TABLE twitch_token_intents');
      await t.app.get(DataSource).query('DROP TABLE twitch_tokens');
      const result = (await t.app.get(TwitchAuthHealthIndicator).isHealthy())['twitch-auth'];
      expect(result).toMatchObject({ status: 'down', overdueValidation: null });
      expect(result.message).toMatch(/^Counting tokens failed/);
      expect(await t.app.get(TwitchAuthMaintenance).runNow()).toMatchObject({ error: expect.stringContaining('TokenStorageError') });
      expect(t.app.get(TwitchAuthMaintenance).status().lastTickError).toContain('TokenStorageError');
    } finally {
      await t.close();
    }
  });

  it("prefers a custom repository's own countBacklog, and otherwise falls back to the due-queries", async () => {
    const counts: TokenBacklogCounts = { overdueValidation: 3, overdueRefresh: 2, reauthRequired: 7 };
    class CountingRepository extends InMemoryTokenRepository implements TokenBacklogCounter {
      async countBacklog(): Promise<TokenBacklogCounts> {
        return counts;
      }
    }
    expect(
      await new TokenBacklogReader(new CountingRepository()).count({
        validatedBefore: 0,
        neverValidatedObtainedBefore: 0,
        expiringBefore: 0,
        limit: 10,
      }),
    ).toBe(counts);

    const plain = new InMemoryTokenRepository();
    const opaque: TokenRepository = {
      get: (id) => plain.get(id),
      findByIntent: (i) => plain.findByIntent(i),
      list: () => Promise.reject(new Error('a custom repository need not list cheaply')),
      save: (t) => plain.save(t),
      update: (id, c, w) => plain.update(id, c, w),
      delete: (id) => plain.delete(id),
      acquireLease: (id, o, u, n) => plain.acquireLease(id, o, u, n),
      releaseLease: (id, o) => plain.releaseLease(id, o),
      listDueForRefresh: (e, n, l) => plain.listDueForRefresh(e, n, l),
      listDueForValidation: (v, n, l) => plain.listDueForValidation(v, n, l),
    };
    await plain.save(fakeToken('c1', { lastValidatedAt: Date.now() - 2 * HOUR, retryAt: Date.now() + HOUR }));
    await plain.save(fakeToken('c2', { expiresAt: Date.now() + MINUTE }));
    await plain.save(fakeToken('c3', { lastValidatedAt: null }));
    const now = Date.now();
    const query = { validatedBefore: now - HOUR, neverValidatedObtainedBefore: now - MINUTE, expiringBefore: now + 5 * MINUTE, limit: 10 };
    // Backed-off tokens count (an unreachable Twitch makes them overdue too); reauth_required cannot be counted this way.
    expect(await new TokenBacklogReader(opaque).count(query)).toEqual({ overdueValidation: 1, overdueRefresh: 1, reauthRequired: null });
  });

  it('counts on SQLite from the due-query indexes, never scanning the table', async () => {
    const logger = new CapturingLogger();
    const dataSource = new DataSource(dataSourceOptionsFromUrl(`sqlite:${dir.path}/plans.sqlite`, { logger, logging: ['query'] }));
    await dataSource.initialize();
    try {
      await seedTokens(dataSource);
      const reader = new TokenBacklogReader(new TypeOrmTokenRepository(dataSource), dataSource);
      logger.queries.length = 0;
      const counts = await reader.count({
        validatedBefore: T0 - 4000 * MINUTE,
        neverValidatedObtainedBefore: T0,
        expiringBefore: T0 + 30 * MINUTE,
        limit: 1000,
      });
      expect(counts.reauthRequired).toBe(500);
      expect(counts.overdueValidation).toBeGreaterThan(0);
      expect(counts.overdueRefresh).toBeGreaterThan(0);
      const selects = logger.queries.filter((q) => /^\s*SELECT/i.test(q.sql));
      expect(selects).toHaveLength(3);
      for (const query of selects) {
        const plan: { detail: string }[] = await dataSource.query(`EXPLAIN QUERY PLAN ${query.sql}`, query.parameters);
        const details = plan.map((step) => step.detail);
        expect(details).toContainEqual(
          expect.stringMatching(/^SEARCH \w+ USING (COVERING )?INDEX IDX_twitch_tokens_(refresh|validation)_due \(status=\?/),
        );
        expect(details.filter((d) => d.startsWith('SCAN'))).toEqual([]);
      }
    } finally {
      await dataSource.destroy();
    }
  });
});

describe("the demo's /health endpoint", () => {
  it('answers 200 with the indicator when all is well, 503 with the reason when tokens are overdue', async () => {
    const repository = new InMemoryTokenRepository();
    @Module({
      imports: [TerminusModule, EventEmitterModule.forRoot(), TwitchAuthModule.forRoot(fakeOptions(fake, { storage: repository }))],
      controllers: [HealthController],
    })
    class HealthRoot {}
    const app = await NestFactory.create(HealthRoot, { logger: captureLogger, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
      const ok = await fetch(`${url}/health`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ status: 'ok', info: { 'twitch-auth': { status: 'up' } } });

      await repository.save(fakeToken('d1', { lastValidatedAt: Date.now() - 2 * HOUR }));
      const failing = await fetch(`${url}/health`);
      expect(failing.status).toBe(503);
      expect(await failing.json()).toMatchObject({ status: 'error', error: { 'twitch-auth': { status: 'down', overdueValidation: 1 } } });

      const status = await (await fetch(`${url}/health/maintenance`)).json();
      expect(status).toMatchObject({ enabled: false, running: false, ticks: 0, instanceId: expect.stringContaining(`:${process.pid}:`) });
    } finally {
      await app.close();
    }
  });
});
