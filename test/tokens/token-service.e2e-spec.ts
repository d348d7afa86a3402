import { inspect } from 'node:util';
import {
  InMemoryTokenRepository,
  MissingScopesError,
  ReauthorizationRequiredError,
  TokenNotFoundError,
  TokenRefreshFailedError,
  TwitchAuthConfigError,
  TwitchAuthError,
  type TokenRefreshFailedEvent,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, secondsAgo, type TestApp } from '../support/app.js';
import { caught, startFake } from '../support/secrets-guard.js';

describe('TokenService against FakeTwitch', () => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.clearRequests();
    fake.clearFailures();
    t.events.length = 0;
  });

  async function seed(userId: string, scopes: string[], expiresAt: Date | null) {
    const issued = fake.issueToken({ userId, scopes });
    await t.tokens.addToken(userId, issued.accessToken, issued.refreshToken, scopes, { expiresAt });
    return issued;
  }

  it('addUser validates the token with Twitch and learns user id, login, scopes and expiry', async () => {
    const user = fake.addUser({ login: 'streamer_one' });
    const issued = fake.issueToken({ userId: user.userId, scopes: ['chat:read', 'chat:edit'] });
    const info = await t.tokens.addUser(issued.accessToken, issued.refreshToken);
    expect(info).toMatchObject({ userId: user.userId, login: 'streamer_one', scopes: ['chat:read', 'chat:edit'], status: 'valid' });
    expect(info.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    expect(info.lastValidatedAt).not.toBeNull();
    expect(t.events.map((e) => e.name)).toContain('twitch.token.added');
    const token = await t.tokens.getUserToken(user.userId, ['chat:edit']);
    expect(token.accessToken).toBe(issued.accessToken);
    expect(fake.countRequests({ path: '/oauth2/validate' })).toBe(1);
  });

  it('addUser with an expired access token refreshes it first', async () => {
    const issued = fake.issueToken({ userId: '5150', scopes: ['chat:read'] });
    fake.expireToken(issued.accessToken);
    const info = await t.tokens.addUser(issued.accessToken, issued.refreshToken);
    expect(info.userId).toBe('5150');
    const token = await t.tokens.getUserToken('5150');
    expect(token.accessToken).not.toBe(issued.accessToken);
    expect(fake.isValid(token.accessToken)).toBe(true);
  });

  it('addUser refuses an app token and a token of another client', async () => {
    const app = fake.issueAppToken();
    const error = await caught(t.tokens.addUser(app.accessToken));
    expect(error).toBeInstanceOf(TwitchAuthError);
    expect(error.message).toMatch(/app access token/);
  });

  it('unknown user → TokenNotFoundError', async () => {
    const error = await caught(t.tokens.getUserToken('nobody'));
    expect(error).toBeInstanceOf(TokenNotFoundError);
    expect(error.message).toContain('nobody');
  });

  it('missing scopes → MissingScopesError naming exactly the missing ones', async () => {
    await seed('6001', ['chat:read'], null);
    const error = await caught(t.tokens.getUserToken('6001', ['chat:read', 'chat:edit', 'moderator:read:followers']));
    expect(error).toBeInstanceOf(MissingScopesError);
    expect((error as MissingScopesError).missingScopes).toEqual(['chat:edit', 'moderator:read:followers']);
    expect(error.message).toContain('chat:edit, moderator:read:followers');
    expect(fake.requests).toHaveLength(0);
  });

  it('"Invalid refresh token" marks the user reauth_required once, emits one permanent event, and throws ReauthorizationRequiredError', async () => {
    const issued = await seed('7001', ['chat:read'], secondsAgo(1));
    fake.revokeUser('7001');
    const errors = await Promise.all(Array.from({ length: 50 }, () => caught(t.tokens.getUserToken('7001'))));
    for (const error of errors) expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    const failed = t.events.filter((e) => e.name === 'twitch.token.refresh_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.payload as TokenRefreshFailedEvent).toMatchObject({ userId: '7001', permanent: true });
    expect((await t.tokens.getTokenInfo('7001'))!.status).toBe('reauth_required');
    // Later calls fail fast without asking Twitch again.
    fake.clearRequests();
    expect(await caught(t.tokens.getUserToken('7001'))).toBeInstanceOf(ReauthorizationRequiredError);
    expect(fake.requests).toHaveLength(0);
    expect(issued.accessToken).toBeDefined();
  });

  it('500 twice then success → refreshed, never marked for re-authorization', async () => {
    const old = await seed('7002', ['chat:read'], secondsAgo(1));
    fake.failNext('token', 2, 500, { grantType: 'refresh_token' });
    const token = await t.tokens.getUserToken('7002');
    expect(token.accessToken).not.toBe(old.accessToken);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(3);
    expect((await t.tokens.getTokenInfo('7002'))!.status).toBe('valid');
    expect(t.events.filter((e) => e.name === 'twitch.token.refresh_failed')).toHaveLength(0);
    expect(t.events.filter((e) => e.name === 'twitch.token.refreshed')).toHaveLength(1);
  });

  it('a Twitch outage keeps the stored token: still-valid tokens are served, expired ones fail transiently', async () => {
    // Lifetime 6 s: due for refresh after 3 s (half its life), expired after 6 s.
    const stillValid = await seed('7003', ['chat:read'], new Date(Date.now() + 6_000));
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    fake.failNext('token', 3, 'reset', { grantType: 'refresh_token' });
    expect((await t.tokens.getUserToken('7003')).accessToken).toBe(stillValid.accessToken);

    const expired = await seed('7004', ['chat:read'], secondsAgo(1));
    fake.failNext('token', 3, 429, { grantType: 'refresh_token' });
    const error = await caught(t.tokens.getUserToken('7004'));
    expect(error).toBeInstanceOf(TokenRefreshFailedError);
    const info = await t.tokens.getTokenInfo('7004');
    expect(info!.status).toBe('valid');
    const failed = t.events.filter((e) => e.name === 'twitch.token.refresh_failed').map((e) => e.payload as TokenRefreshFailedEvent);
    expect(failed.every((event) => event.permanent === false)).toBe(true);
    expect(failed.map((event) => event.userId)).toEqual(['7003', '7004']);
    // The stored refresh token was not consumed: once Twitch is back, the refresh succeeds.
    const refreshed = await t.tokens.refresh('7004');
    expect(refreshed.accessToken).not.toBe(expired.accessToken);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
  });

  it('validate() of a token revoked at Twitch marks reauth_required and emits twitch.token.revoked once', async () => {
    await seed('7005', ['chat:read'], null);
    fake.revokeUser('7005');
    const error = await caught(t.tokens.validate('7005'));
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect(t.events.filter((e) => e.name === 'twitch.token.revoked')).toHaveLength(1);
    expect((await t.tokens.getTokenInfo('7005'))!.status).toBe('reauth_required');
  });

  it('validate() records lastValidatedAt and what Twitch says', async () => {
    await seed('7006', ['chat:read'], null);
    const before = await t.tokens.getTokenInfo('7006');
    expect(before!.lastValidatedAt).toBeNull();
    const info = await t.tokens.validate('7006');
    expect(info.lastValidatedAt).not.toBeNull();
    expect(info.expiresAt).not.toBeNull();
    expect(info.login).toBeTruthy();
  });

  it('reportUnauthorized refreshes once for the rejected token and hands newer tokens to late reporters', async () => {
    const issued = await seed('7007', ['chat:read'], null);
    const [a, b] = await Promise.all([
      t.tokens.reportUnauthorized('7007', issued.accessToken),
      t.tokens.reportUnauthorized('7007', issued.accessToken),
    ]);
    expect(a.accessToken).toBe(b.accessToken);
    expect(a.accessToken).not.toBe(issued.accessToken);
    const late = await t.tokens.reportUnauthorized('7007', issued.accessToken);
    expect(late.accessToken).toBe(a.accessToken);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
  });

  it('intents map a role to one user and move between users', async () => {
    await seed('8001', ['chat:read', 'chat:edit'], null);
    await seed('8002', ['chat:read'], null);
    await t.tokens.addIntents('8001', ['chat']);
    expect((await t.tokens.getTokenForIntent('chat', ['chat:edit'])).userId).toBe('8001');
    await t.tokens.addIntents('8002', ['chat']);
    expect((await t.tokens.getTokenForIntent('chat')).userId).toBe('8002');
    expect((await t.tokens.getTokenInfo('8001'))!.intents).toEqual([]);
    expect(await caught(t.tokens.getTokenForIntent('moderation'))).toBeInstanceOf(TokenNotFoundError);
  });

  it('listTokens and getTokenInfo never carry secrets; AccessToken hides them from inspection', async () => {
    const issued = await seed('8003', ['chat:read'], null);
    const listing = JSON.stringify(await t.tokens.listTokens());
    expect(listing).toContain('8003');
    expect(listing).not.toContain(issued.accessToken);
    expect(listing).not.toContain(issued.refreshToken);
    const token = await t.tokens.getUserToken('8003');
    expect(token.accessToken).toBe(issued.accessToken);
    for (const rendering of [inspect(token), JSON.stringify(token), String(Object.keys(token)), inspect({ nested: token }, { depth: 5 })]) {
      expect(rendering).not.toContain(issued.accessToken);
      expect(rendering).not.toContain(issued.refreshToken);
    }
  });

  it('removeUser({ revoke: true }) revokes at Twitch and deletes; revoke() of an unknown user says so', async () => {
    const issued = await seed('8004', ['chat:read'], null);
    expect(await t.tokens.removeUser('8004', { revoke: true })).toBe(true);
    expect(fake.isValid(issued.accessToken)).toBe(false);
    expect(await t.tokens.getTokenInfo('8004')).toBeNull();
    expect(await caught(t.tokens.revoke('8004'))).toBeInstanceOf(TokenNotFoundError);
  });

  it('getAppToken is cached and single-flight', async () => {
    const [a, b, c] = await Promise.all([t.tokens.getAppToken(), t.tokens.getAppToken(), t.tokens.getAppToken()]);
    expect(a.accessToken).toBe(b.accessToken);
    expect(b.accessToken).toBe(c.accessToken);
    expect(a.userId).toBeNull();
    expect((await t.tokens.getAppToken()).accessToken).toBe(a.accessToken);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'client_credentials' })).toBe(1);
  });

  it('a failed early renewal of the app token keeps serving the cached one until it expires', async () => {
    const shortLived = await startFake({ appTokenTtlSeconds: 4 });
    const app = await createTestApp({ fake: shortLived });
    try {
      const first = await app.tokens.getAppToken();
      // Due for renewal after half its life (2 s), still valid until 4 s.
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      shortLived.failNext('token', 1, { status: 503, message: 'Service Unavailable' }, { grantType: 'client_credentials' });
      expect((await app.tokens.getAppToken()).accessToken).toBe(first.accessToken);
      const renewed = await app.tokens.getAppToken();
      expect(renewed.accessToken).not.toBe(first.accessToken);
      expect(shortLived.countRequests({ path: '/oauth2/token', grantType: 'client_credentials' })).toBe(3);
    } finally {
      await app.close();
      await shortLived.close();
    }
  });

  it('getAccessToken keeps every user apart while users come and go (cache slots are reused)', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => String(910_000 + i));
    const tokens = new Map<string, string>();
    for (const id of ids) tokens.set(id, (await seed(id, ['chat:read'], null)).accessToken);
    for (const id of ids) expect(await t.tokens.getAccessToken(id)).toBe(tokens.get(id));

    const removed = ids.filter((_, i) => i % 3 === 0);
    for (const id of removed) await t.tokens.removeUser(id);
    const newcomers = Array.from({ length: 80 }, (_, i) => String(920_000 + i));
    for (const id of newcomers) tokens.set(id, (await seed(id, ['chat:read', 'chat:edit'], null)).accessToken);

    for (const id of removed) expect(await caught(t.tokens.getAccessToken(id))).toBeInstanceOf(TokenNotFoundError);
    for (const id of [...ids.filter((id) => !removed.includes(id)), ...newcomers]) {
      expect(await t.tokens.getAccessToken(id, ['chat:read'])).toBe(tokens.get(id));
    }
    expect(await caught(t.tokens.getAccessToken(ids[1]!, ['chat:edit']))).toBeInstanceOf(MissingScopesError);
    expect(await t.tokens.getAccessToken(newcomers[0]!, ['chat:edit'])).toBe(tokens.get(newcomers[0]!));

    // A replaced token is served at once, and a user that comes back gets the new token, not the old slot's.
    const replaced = await seed(ids[1]!, ['chat:read'], null);
    expect(await t.tokens.getAccessToken(ids[1]!)).toBe(replaced.accessToken);
    const back = await seed(removed[0]!, ['chat:read'], null);
    expect(await t.tokens.getAccessToken(removed[0]!)).toBe(back.accessToken);
    for (const id of [...removed.slice(1), ...newcomers]) await t.tokens.removeUser(id);
  });

  it('getAccessToken with scopes that are not an array rejects; it never throws synchronously', async () => {
    await seed('8011', ['chat:read'], null);
    expect(await t.tokens.getAccessToken('8011')).toBeDefined();
    let pending: Promise<string> | undefined;
    expect(() => {
      pending = t.tokens.getAccessToken('8011', 'chat:read' as unknown as string[]);
    }).not.toThrow();
    const error = await caught(pending!);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe("scopes must be an array of scope names, e.g. ['chat:read']; got string.");
    expect(await caught(t.tokens.getUserToken('8011', 'chat:read' as unknown as string[]))).toBeInstanceOf(TypeError);
  });

  it('the in-memory repository is the default, with a warning at startup', async () => {
    expect(t.repository).toBeInstanceOf(InMemoryTokenRepository);
  });

  it('getAuthorizationUrl builds the authorize URL and checks scopes', () => {
    const url = new URL(t.tokens.getAuthorizationUrl({ scopes: ['chat:read', 'chat:edit'], state: 'abc', forceVerify: true }));
    expect(url.origin + url.pathname).toBe(`${fake.idBaseUrl}/oauth2/authorize`);
    expect(url.searchParams.get('scope')).toBe('chat:read chat:edit');
    expect(url.searchParams.get('force_verify')).toBe('true');
    expect(url.searchParams.get('client_secret')).toBeNull();
    expect(() => t.tokens.getAuthorizationUrl({ scopes: ['not a scope'] })).toThrow(TwitchAuthConfigError);
  });
});
