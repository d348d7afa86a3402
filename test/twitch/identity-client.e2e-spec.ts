import {
  InvalidAccessTokenError,
  InvalidAuthorizationCodeError,
  InvalidClientError,
  InvalidRefreshTokenError,
  MissingClientSecretError,
  RedirectUriMismatchError,
  TwitchIdentityClient,
  TwitchNetworkError,
  TwitchRateLimitError,
  TwitchRequestError,
  TwitchServerError,
  TwitchTimeoutError,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { caught, startFake } from '../support/secrets-guard.js';

describe('TwitchIdentityClient against FakeTwitch', () => {
  let fake: FakeTwitch;
  const redirectUri = 'http://localhost:3000/oauth/callback';

  beforeAll(async () => {
    fake = await startFake({ redirectUris: [redirectUri] });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.clearFailures();
    fake.clearRequests();
  });

  function client(overrides: Partial<ConstructorParameters<typeof TwitchIdentityClient>[0]> = {}) {
    return new TwitchIdentityClient({
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      redirectUri,
      idBaseUrl: fake.idBaseUrl,
      timeoutMs: 1_000,
      ...overrides,
    });
  }

  it('exchanges a code, refreshes, gets an app token, validates and revokes, with secrets only in form bodies', async () => {
    const user = fake.addUser({ login: 'wire_user' });
    const code = fake.issueCode({ userId: user.userId, scopes: ['chat:read'], redirectUri });
    const grant = await client().exchangeCode(code);
    expect(grant).toMatchObject({ scopes: ['chat:read'] });
    expect(grant.refreshToken).toBeTruthy();
    const refreshed = await client().refresh(grant.refreshToken!);
    expect(refreshed.accessToken).not.toBe(grant.accessToken);
    const validation = await client().validate(refreshed.accessToken);
    expect(validation).toMatchObject({ userId: user.userId, login: 'wire_user', scopes: ['chat:read'], clientId: fake.clientId });
    const app = await client().clientCredentials();
    expect(app.refreshToken).toBeNull();
    expect((await client().validate(app.accessToken)).userId).toBeNull();
    await client().revoke(refreshed.accessToken);
    expect(fake.isValid(refreshed.accessToken)).toBe(false);
    // Revoking an already-revoked token counts as done.
    await client().revoke(refreshed.accessToken);
    for (const request of fake.requests) {
      expect(Object.keys(request.query)).not.toEqual(expect.arrayContaining(['client_secret']));
      expect(Object.keys(request.query)).not.toEqual(expect.arrayContaining(['refresh_token']));
      expect(Object.keys(request.query)).not.toEqual(expect.arrayContaining(['code']));
    }
    expect(fake.requests.filter((r) => r.form.client_secret !== undefined).length).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ['a wrong client secret', () => client({ clientSecret: 'wrong-secret-value' }).clientCredentials(), InvalidClientError, false],
    ['an unknown client id', () => client({ clientId: 'nope' }).clientCredentials(), InvalidClientError, false],
    [
      'a refresh without the secret of a confidential client',
      () => client({ clientSecret: null }).refresh('anything-at-all'),
      MissingClientSecretError,
      false,
    ],
    ['an unknown refresh token', () => client().refresh('not-a-refresh-token'), InvalidRefreshTokenError, false],
    ['an unknown authorization code', () => client().exchangeCode('not-a-code'), InvalidAuthorizationCodeError, false],
    [
      'a redirect URI not registered',
      () => client({ redirectUri: 'http://evil.example/cb' }).exchangeCode('x'),
      RedirectUriMismatchError,
      false,
    ],
    ['an invalid access token on validate', () => client().validate('not-a-token'), InvalidAccessTokenError, false],
  ])('maps %s to a permanent typed error', async (_what, call, type, transient) => {
    const error = await caught(call());
    expect(error).toBeInstanceOf(type);
    expect((error as TwitchRequestError).transient).toBe(transient);
  });

  it.each([
    [500 as const, TwitchServerError],
    [429 as const, TwitchRateLimitError],
    ['reset' as const, TwitchNetworkError],
    ['timeout' as const, TwitchTimeoutError],
  ])('maps a %s answer to a transient error', async (failure, type) => {
    fake.failNext('token', 1, failure);
    const error = await caught(client({ timeoutMs: 300 }).clientCredentials());
    expect(error).toBeInstanceOf(type);
    expect((error as TwitchRequestError).transient).toBe(true);
    if (error instanceof TwitchRateLimitError) expect(error.retryAfterMs).not.toBeNull();
  });

  it('a refused connection is a transient network error naming no URL parameters', async () => {
    const error = await caught(client({ idBaseUrl: 'http://127.0.0.1:1' }).refresh('some-refresh-token'));
    expect(error).toBeInstanceOf(TwitchNetworkError);
    expect(error.message).not.toContain('some-refresh-token');
  });
});
