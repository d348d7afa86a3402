import { TwitchAuthConfigError } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { caught, startFake } from '../support/secrets-guard.js';

const CLIENT_CREDENTIALS = { path: '/oauth2/token', grantType: 'client_credentials' } as const;

describe('app access token (client credentials)', () => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    // Four-second app tokens: replaced once half their life has passed.
    fake = await startFake({ appTokenTtlSeconds: 4 });
    t = await createTestApp({ fake });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('is requested once for many concurrent callers, cached, and re-requested before it expires', async () => {
    const first = await Promise.all(Array.from({ length: 25 }, () => t.tokens.getAppToken()));
    expect(new Set(first.map((token) => token.accessToken)).size).toBe(1);
    expect(fake.countRequests(CLIENT_CREDENTIALS)).toBe(1);
    const token = first[0]!;
    expect(token.userId).toBeNull();
    expect(fake.tokenInfo(token.accessToken)?.kind).toBe('app');

    expect((await t.tokens.getAppToken()).accessToken).toBe(token.accessToken);
    expect(fake.countRequests(CLIENT_CREDENTIALS)).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    // Still valid at Twitch, but due: replaced before it can expire under a caller.
    expect(fake.isValid(token.accessToken)).toBe(true);
    const second = await Promise.all(Array.from({ length: 25 }, () => t.tokens.getAppToken()));
    expect(new Set(second.map((next) => next.accessToken)).size).toBe(1);
    expect(second[0]!.accessToken).not.toBe(token.accessToken);
    expect(fake.isValid(second[0]!.accessToken)).toBe(true);
    expect(fake.countRequests(CLIENT_CREDENTIALS)).toBe(2);
  });

  it('a failed renewal keeps serving the still-valid token; the next call asks again', async () => {
    const cached = await t.tokens.getAppToken();
    fake.clearRequests();
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    fake.failNext('token', 1, 500, { grantType: 'client_credentials' });
    const during = await Promise.all(Array.from({ length: 5 }, () => t.tokens.getAppToken()));
    expect(during.every((token) => token.accessToken === cached.accessToken)).toBe(true);
    expect(fake.countRequests(CLIENT_CREDENTIALS)).toBe(1);
    const renewed = await t.tokens.getAppToken();
    expect(renewed.accessToken).not.toBe(cached.accessToken);
    expect(fake.countRequests(CLIENT_CREDENTIALS)).toBe(2);
  });

  it('with no token cached, a failure reaches every waiting caller once and is not cached', async () => {
    const app = await createTestApp({ fake });
    try {
      fake.clearRequests();
      fake.failNext('token', 1, 500, { grantType: 'client_credentials' });
      const failures = await Promise.all(Array.from({ length: 5 }, () => caught(app.tokens.getAppToken())));
      expect(failures.every((error) => error.name === 'TwitchServerError')).toBe(true);
      expect(fake.countRequests(CLIENT_CREDENTIALS)).toBe(1);
      expect(fake.isValid((await app.tokens.getAppToken()).accessToken)).toBe(true);
      expect(fake.countRequests(CLIENT_CREDENTIALS)).toBe(2);
    } finally {
      await app.close();
    }
  });

  it('a public client gets a clear configuration error and Twitch is not asked', async () => {
    const publicFake = await startFake({ clientSecret: null });
    const app = await createTestApp({ fake: publicFake });
    try {
      const error = await caught(app.tokens.getAppToken());
      expect(error).toBeInstanceOf(TwitchAuthConfigError);
      expect(error.message).toMatch(/needs clientSecret/);
      expect(publicFake.requests).toHaveLength(0);
    } finally {
      await app.close();
      await publicFake.close();
    }
  });
});
