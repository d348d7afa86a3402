import { ApiClient } from '@twurple/api';
import { MissingScopesError, ReauthorizationRequiredError, TwitchAuthProvider } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { caught, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';

const USERS = '/helix/users';
const TWITCH_HELIX = 'https://api.twitch.tv/helix/';

/**
 * twurple's real `ApiClient` (its own rate limiter, batching and 401 retry)
 * with `TwitchAuthProvider`, against FakeTwitch. twurple always calls
 * api.twitch.tv through the global `fetch`; the test sends those calls to
 * FakeTwitch instead.
 */
const realFetch = globalThis.fetch;

/** Sends twurple's calls to api.twitch.tv to FakeTwitch instead. */
function routeHelixTo(fake: FakeTwitch): void {
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return realFetch(url.startsWith(TWITCH_HELIX) ? `${fake.helixBaseUrl}/${url.slice(TWITCH_HELIX.length)}` : input, init);
  };
}

function twurpleClient(app: TestApp): ApiClient {
  return new ApiClient({ authProvider: app.app.get(TwitchAuthProvider), logger: { minLevel: 'critical' } });
}

describe('twurple ApiClient with TwitchAuthProvider', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let provider: TwitchAuthProvider;
  let api: ApiClient;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake });
    provider = t.app.get(TwitchAuthProvider);
    api = twurpleClient(t);
    routeHelixTo(fake);
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.clearRequests());

  async function seedUser(userId: string, scopes: string[]): Promise<string> {
    const issued = fake.issueToken({ userId, scopes });
    await t.tokens.addToken(userId, issued.accessToken, issued.refreshToken, scopes);
    return issued.accessToken;
  }

  /** Which kind of token each recorded Helix request to `path` carried. */
  function tokenKinds(path: string): (string | undefined)[] {
    return fake.requests.filter((r) => r.path === path).map((r) => fake.tokenInfo(r.headers.authorization?.slice(7) ?? '')?.kind);
  }

  it('makes app calls with the app token and user calls with the user token', async () => {
    await seedUser('3001', ['user:write:chat', 'user:bot']);
    await seedUser('3002', ['channel:bot']);

    const streamer = await api.users.getUserByName(fake.defaultUser.login);
    expect(streamer?.id).toBe(fake.defaultUser.userId);
    const self = await api.asUser('3001', (ctx) => ctx.users.getUserById('3001'));
    expect(self?.id).toBe('3001');
    expect(tokenKinds(USERS)).toEqual(['app', 'user']);

    const sent = await api.asUser('3001', (ctx) => ctx.chat.sendChatMessage('3002', 'from twurple'));
    expect(sent.isSent).toBe(true);
    const badge = await api.chat.sendChatMessageAsApp('3001', '3002', 'bot badge');
    expect(badge.isSent).toBe(true);
    expect(fake.chatMessages.map((m) => [m.message, m.botBadge])).toEqual([
      ['from twurple', false],
      ['bot badge', true],
    ]);
    expect(provider.getCurrentScopesForUser('3001')).toEqual(['user:write:chat', 'user:bot']);
  });

  it("answers twurple's scope sets (any one scope of each set) and never hands it a refresh token", async () => {
    await seedUser('3003', ['chat:read']);
    const token = await provider.getAccessTokenForUser('3003', ['chat:edit', 'chat:read'], undefined);
    expect(token).toMatchObject({ userId: '3003', refreshToken: null, scope: ['chat:read'] });
    const missing = await caught(provider.getAccessTokenForUser({ id: '3003' }, ['chat:read'], ['moderator:read:chatters', 'channel:bot']));
    expect(missing).toBeInstanceOf(MissingScopesError);
    expect((missing as MissingScopesError).missingScopes).toEqual(['moderator:read:chatters']);
    expect((await provider.getAnyAccessToken()).userId).toBeUndefined();
    expect((await provider.getAnyAccessToken(3003)).userId).toBe('3003');
    expect((await provider.getAnyAccessToken('unknown-user')).userId).toBeUndefined();
  });

  it("twurple's 401 retry after FakeTwitch expires a token goes through the refresher: one refresh, none reused", async () => {
    const first = await seedUser('3004', ['chat:read']);
    await api.asUser('3004', (ctx) => ctx.users.getUserById('3004'));
    fake.expireToken(first);
    fake.clearRequests();

    const users = await Promise.all(Array.from({ length: 20 }, () => api.asUser('3004', (ctx) => ctx.users.getUserById('3004'))));

    expect(users.every((user) => user?.id === '3004')).toBe(true);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
    expect(fake.countRequests({ path: USERS, status: 401 })).toBe(20);
    expect(fake.countRequests({ path: USERS, status: 200 })).toBe(20);
    const stored = await t.tokens.getUserToken('3004');
    expect(stored.accessToken).not.toBe(first);
    expect(fake.isValid(stored.accessToken)).toBe(true);
  });

  it("twurple's forced new app token replaces the rejected one once", async () => {
    const before = (await t.tokens.getAppToken()).accessToken;
    await api.users.getUserByName(fake.defaultUser.login);
    fake.revokeToken(before);
    fake.clearRequests();

    const found = await Promise.all(Array.from({ length: 5 }, () => api.users.getUserById(fake.defaultUser.userId)));

    expect(found.every((user) => user?.id === fake.defaultUser.userId)).toBe(true);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'client_credentials' })).toBe(1);
    expect((await t.tokens.getAppToken()).accessToken).not.toBe(before);
  });

  it('a revoked user reaches twurple callers as ReauthorizationRequiredError', async () => {
    await seedUser('3005', ['chat:read']);
    await api.asUser('3005', (ctx) => ctx.users.getUserById('3005'));
    fake.revokeUser('3005');
    const revoked = await caught(api.asUser('3005', (ctx) => ctx.users.getUserById('3005')));
    expect(revoked).toBeInstanceOf(ReauthorizationRequiredError);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
  });
});

describe('twurple in two app instances sharing one SQLite file', () => {
  let fake: FakeTwitch;
  const dir = tempDir();

  beforeAll(async () => {
    fake = await startFake();
    routeHelixTo(fake);
  });
  afterAll(async () => {
    globalThis.fetch = realFetch;
    await fake.close();
    dir.remove();
  });

  it("an expired token met by both instances' twurple clients is refreshed once, no refresh token reused", async () => {
    const databaseUrl = `sqlite:${dir.path}/twurple.sqlite`;
    const a = await createTestApp({ fake, databaseUrl });
    const b = await createTestApp({ fake, databaseUrl });
    try {
      const issued = fake.issueToken({ userId: '4001', scopes: ['chat:read'] });
      await a.tokens.addToken('4001', issued.accessToken, issued.refreshToken, ['chat:read']);
      const [apiA, apiB] = [twurpleClient(a), twurpleClient(b)];
      await Promise.all([apiA, apiB].map((api) => api.asUser('4001', (ctx) => ctx.users.getUserById('4001'))));
      fake.expireToken(issued.accessToken);
      fake.clearRequests();

      const calls = [apiA, apiB].flatMap((api) =>
        Array.from({ length: 10 }, () => api.asUser('4001', (ctx) => ctx.users.getUserById('4001'))),
      );
      const users = await Promise.all(calls);

      expect(users.every((user) => user?.id === '4001')).toBe(true);
      expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
      expect(fake.reusedRefreshTokens).toHaveLength(0);
      expect(fake.countRequests({ path: USERS, status: 200 })).toBe(20);
      const [tokenA, tokenB] = await Promise.all([a.tokens.getUserToken('4001'), b.tokens.getUserToken('4001')]);
      expect(tokenA.accessToken).toBe(tokenB.accessToken);
      expect(fake.isValid(tokenA.accessToken)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
