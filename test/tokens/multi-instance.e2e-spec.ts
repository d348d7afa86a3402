import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, secondsAgo } from '../support/app.js';
import { requirePostgres, type ThrowawayPostgres } from '../support/postgres.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';

/**
 * Two Nest applications (each with its own refresher, cache and database
 * connection: what two processes have) race on the same expired users.
 */
async function raceTwoInstances(fake: FakeTwitch, databaseUrl: string, users: number, callersPerApp: number) {
  const a = await createTestApp({ fake, databaseUrl });
  const b = await createTestApp({ fake, databaseUrl });
  try {
    const ids = Array.from({ length: users }, (_, i) => String(60_000 + i));
    for (const userId of ids) {
      const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
      await a.tokens.addToken(userId, issued.accessToken, issued.refreshToken, ['chat:read'], { expiresAt: secondsAgo(5) });
    }
    fake.clearRequests();
    const calls = ids.flatMap((userId) => [
      ...Array.from({ length: callersPerApp }, () => a.tokens.getAccessToken(userId).then((token) => ({ userId, token }))),
      ...Array.from({ length: callersPerApp }, () => b.tokens.getAccessToken(userId).then((token) => ({ userId, token }))),
    ]);
    const results = await Promise.all(calls);

    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(users);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
    for (const userId of ids) {
      const seen = new Set(results.filter((r) => r.userId === userId).map((r) => r.token));
      expect(seen.size).toBe(1);
      const token = [...seen][0]!;
      expect(fake.isValid(token)).toBe(true);
      expect((await b.tokens.getUserToken(userId)).accessToken).toBe(token);
    }
  } finally {
    await a.close();
    await b.close();
  }
}

describe('several instances sharing one SQLite file', () => {
  let fake: FakeTwitch;
  const dir = tempDir();
  const databaseUrl = `sqlite:${dir.path}/shared.sqlite`;

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(async () => {
    await fake.close();
    dir.remove();
  });

  it('two apps racing on 60 expired users refresh each exactly once, reusing no refresh token', async () => {
    await raceTwoInstances(fake, databaseUrl, 60, 10);
  });

  it('a refreshed token survives an application restart', async () => {
    const first = await createTestApp({ fake, databaseUrl });
    const issued = fake.issueToken({ userId: '777', scopes: ['chat:read'] });
    let refreshed: string;
    try {
      await first.tokens.addUser(issued.accessToken, issued.refreshToken);
      refreshed = (await first.tokens.refresh('777')).accessToken;
    } finally {
      await first.close();
    }
    const second = await createTestApp({ fake, databaseUrl });
    try {
      const token = await second.tokens.getUserToken('777');
      expect(token.accessToken).toBe(refreshed);
      expect(token.accessToken).not.toBe(issued.accessToken);
      // The stored refresh token is the new one: refreshing again works and reuses nothing.
      await second.tokens.refresh('777');
      expect(fake.reusedRefreshTokens).toHaveLength(0);
    } finally {
      await second.close();
    }
  });
});

describe('several instances sharing one Postgres database', () => {
  let fake: FakeTwitch;
  let postgres: ThrowawayPostgres | null;

  beforeAll(async () => {
    fake = await startFake();
    postgres = await requirePostgres('multi-instance Postgres');
  }, 120_000);
  afterAll(async () => {
    await fake.close();
    await postgres?.stop();
  });

  it('two apps racing on 100 expired users refresh each exactly once, reusing no refresh token', async () => {
    if (!postgres) return;
    await raceTwoInstances(fake, postgres.url, 100, 10);
  });
});
