import { InMemoryTokenRepository } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { TokenCache } from '../../src/twitch-auth/tokens/token-cache.js';
import { startFake } from '../support/secrets-guard.js';
import { maintainedApp, refreshRequests } from './support/maintained-app.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let fake: FakeTwitch;
afterEach(async () => {
  await fake?.close();
});

/** `count` users FakeTwitch issued tokens to, stored in `repository`: the first `refreshDue` inside their refresh window, the rest due for validation. */
async function seedDue(repository: InMemoryTokenRepository, count: number, refreshDue: number): Promise<string[]> {
  const now = Date.now();
  const ids = Array.from({ length: count }, (_, i) => `u${i}`);
  for (const [i, userId] of ids.entries()) {
    const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
    const refresh = i < refreshDue;
    const expiresAt = refresh ? now + 2 * MINUTE : now + 3 * HOUR;
    await repository.save({
      userId,
      login: userId,
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      scopes: ['chat:read'],
      expiresAt,
      obtainedAt: expiresAt - 4 * HOUR,
      lastValidatedAt: refresh ? now : now - 2 * HOUR,
      status: 'valid',
      intents: [],
    });
  }
  return ids;
}

describe('maintenance in claimed batches', () => {
  it('maintains every due token once without filling the read cache, and keeps cached users current', async () => {
    fake = await startFake({ accessTokenTtlSeconds: 4 * 3600 });
    const repository = new InMemoryTokenRepository();
    const t = await maintainedApp(fake, { enabled: false }, { storage: repository });
    try {
      const ids = await seedDue(repository, 300, 60);
      // A user a caller reads (so it is cached) whose token then comes due: the cached entry must follow the refresh.
      const before = await t.tokens.getUserToken('u299');
      await repository.update('u299', { expiresAt: Date.now() + 2 * MINUTE, obtainedAt: Date.now() + 2 * MINUTE - 4 * HOUR });
      const summary = await t.maintenance.runNow();
      expect(summary).toMatchObject({ refreshed: 61, validated: 239, failed: 0, error: null });
      expect(refreshRequests(fake)).toHaveLength(61);
      expect(fake.reusedRefreshTokens).toHaveLength(0);
      expect(t.app.get(TokenCache, { strict: false }).size).toBe(1);
      const after = await t.tokens.getUserToken('u299');
      expect(after.accessToken).not.toBe(before.accessToken);
      expect(after.accessToken).toBe((await repository.get('u299'))!.accessToken);
      for (const userId of ids) expect((await repository.get(userId))!.leaseOwner).toBeNull();
      expect(await t.maintenance.runNow()).toMatchObject({ refreshed: 0, validated: 0 });
    } finally {
      await t.close();
    }
  });

  it('splits the due work between instances on one storage, each token worked on once', async () => {
    fake = await startFake({ accessTokenTtlSeconds: 4 * 3600 });
    const repository = new InMemoryTokenRepository();
    const apps = [
      await maintainedApp(fake, { enabled: false, concurrency: 2 }, { storage: repository }),
      await maintainedApp(fake, { enabled: false, concurrency: 2 }, { storage: repository }),
    ];
    try {
      await seedDue(repository, 400, 100);
      const summaries = await Promise.all(apps.map((app) => app.maintenance.runNow()));
      expect(summaries.map((s) => s.refreshed + s.validated).reduce((a, b) => a + b)).toBe(400);
      for (const summary of summaries) expect(summary.refreshed + summary.validated).toBeGreaterThan(0);
      expect(summaries.map((s) => s.refreshed).reduce((a, b) => a + b)).toBe(100);
      expect(summaries.map((s) => s.failed)).toEqual([0, 0]);
      expect(refreshRequests(fake)).toHaveLength(100);
      expect(fake.requests.filter((r) => r.path === '/oauth2/validate')).toHaveLength(300);
      expect(fake.reusedRefreshTokens).toHaveLength(0);
    } finally {
      for (const app of apps) await app.close();
    }
  });
});
