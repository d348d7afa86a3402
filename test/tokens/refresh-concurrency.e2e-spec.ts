import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, secondsAgo, type TestApp } from '../support/app.js';
import { caught, startFake } from '../support/secrets-guard.js';

describe('single-flight refresh in one process (in-memory storage)', () => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    // 10,000 concurrent calls on a loaded 2-core machine can keep one refresh waiting past a 2 s timeout; its retry
    // would then present a refresh token Twitch already rotated. Twitch's own timeout (10 s) leaves that to real outages.
    t = await createTestApp({
      fake,
      options: { twitch: { idBaseUrl: fake.idBaseUrl, helixBaseUrl: fake.helixBaseUrl, timeoutMs: 10_000 } },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.clearRequests());

  async function seedExpiredUser(userId: string) {
    const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
    await t.tokens.addToken(userId, issued.accessToken, issued.refreshToken, ['chat:read'], { expiresAt: secondsAgo(5) });
    return issued;
  }

  it('1000 concurrent getUserToken calls for one expired user cause exactly one refresh', async () => {
    const old = await seedExpiredUser('1001');
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => t.tokens.getUserToken('1001', ['chat:read'])));

    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    const distinct = new Set(tokens.map((token) => token.accessToken));
    expect(distinct.size).toBe(1);
    const [fresh] = distinct;
    expect(fresh).not.toBe(old.accessToken);
    expect(fake.isValid(fresh!)).toBe(true);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
    expect(t.events.filter((e) => e.name === 'twitch.token.refreshed')).toHaveLength(1);
  });

  it('500 expired users x 20 concurrent callers cause exactly 500 refreshes, none reused', async () => {
    const users = Array.from({ length: 500 }, (_, i) => String(20_000 + i));
    for (const userId of users) await seedExpiredUser(userId);
    fake.clearRequests();

    const calls = users.flatMap((userId) => Array.from({ length: 20 }, () => t.tokens.getAccessToken(userId)));
    const results = await Promise.all(calls);

    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(500);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
    for (let u = 0; u < users.length; u++) {
      const perUser = new Set(results.slice(u * 20, u * 20 + 20));
      expect(perUser.size).toBe(1);
      expect(fake.isValid([...perUser][0]!)).toBe(true);
    }
  });

  it('concurrent explicit refresh(userId) calls share one request', async () => {
    await seedExpiredUser('3001');
    fake.clearRequests();
    const refreshed = await Promise.all(Array.from({ length: 10 }, () => t.tokens.refresh('3001')));
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    expect(new Set(refreshed.map((r) => r.accessToken)).size).toBe(1);
  });

  it('leaves no lease behind after a refresh, a validation or a failed refresh', async () => {
    await seedExpiredUser('3101');
    await t.tokens.refresh('3101');
    expect((await t.repository.get('3101'))!.leaseOwner).toBeNull();
    await t.tokens.validate('3101');
    expect((await t.repository.get('3101'))!.leaseOwner).toBeNull();
    await seedExpiredUser('3102');
    fake.revokeUser('3102');
    expect((await caught(t.tokens.refresh('3102'))).name).toBe('ReauthorizationRequiredError');
    const dead = await t.repository.get('3102');
    expect(dead!.status).toBe('reauth_required');
    expect(dead!.leaseOwner).toBeNull();
  });

  it('a token that is not due is served from memory without asking Twitch or refreshing', async () => {
    const issued = fake.issueToken({ userId: '4001', scopes: ['chat:read'] });
    await t.tokens.addToken('4001', issued.accessToken, issued.refreshToken, ['chat:read'], {
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    fake.clearRequests();
    for (let i = 0; i < 100; i++) expect(await t.tokens.getAccessToken('4001', ['chat:read'])).toBe(issued.accessToken);
    expect(fake.requests).toHaveLength(0);
  });
});
