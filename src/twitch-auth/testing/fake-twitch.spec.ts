import { FakeTwitch } from './index.js';

type Body = Record<string, unknown>;
interface Answer {
  status: number;
  body: Body | null;
  headers: Headers;
}

/** Posts an urlencoded form, as Twitch clients do. */
async function post(url: string, params: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body: new URLSearchParams(params) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Body) : null, headers: res.headers };
}

async function validate(fake: FakeTwitch, token: string | null): Promise<Answer> {
  const res = await fetch(`${fake.idBaseUrl}/oauth2/validate`, {
    headers: token === null ? {} : { authorization: `OAuth ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Body, headers: res.headers };
}

const REDIRECT = 'http://localhost:3000/oauth/callback';
let clock = 1_700_000_000_000;
let fake: FakeTwitch;

beforeEach(async () => {
  clock = 1_700_000_000_000;
  fake = await FakeTwitch.start({ now: () => clock });
});
afterEach(() => fake.close());

function tokenRequest(params: Record<string, string>): Promise<Answer> {
  return post(`${fake.idBaseUrl}/oauth2/token`, { client_id: 'fake-client-id', ...params });
}

describe('FakeTwitch basics', () => {
  it('listens on a loopback port and exposes the base URLs', () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.idBaseUrl).toBe(fake.url);
    expect(fake.helixBaseUrl).toBe(`${fake.url}/helix`);
    expect(fake.clientId).toBe('fake-client-id');
    expect(fake.clientSecret).toBe('fake-client-secret');
  });

  it('answers unknown paths with a Twitch-style 404', async () => {
    const res = await fetch(`${fake.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ status: 404, message: 'Not Found' });
  });

  it('generates numeric user ids and keeps given ones', () => {
    const generated = fake.addUser();
    expect(generated.userId).toMatch(/^\d+$/);
    expect(generated.userId).not.toBe(fake.defaultUser.userId);
    expect(fake.addUser({ userId: '42', login: 'answer' })).toEqual({ userId: '42', login: 'answer' });
  });
});

describe('authorization_code grant', () => {
  const exchange = (code: string, extra: Record<string, string> = {}) =>
    tokenRequest({ grant_type: 'authorization_code', client_secret: 'fake-client-secret', code, redirect_uri: REDIRECT, ...extra });

  it('exchanges a code for the exact Twitch token shape, once', async () => {
    const code = fake.issueCode({ userId: '42', scopes: ['chat:read', 'chat:edit'], redirectUri: REDIRECT });
    const first = await exchange(code);
    expect(first.status).toBe(200);
    expect(Object.keys(first.body!)).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(first.body).toMatchObject({ expires_in: 14400, scope: ['chat:read', 'chat:edit'], token_type: 'bearer' });
    expect(first.body!.access_token).toMatch(/^[a-z0-9]{30}$/);
    expect(first.body!.refresh_token).toMatch(/^[a-z0-9]{30}$/);
    expect(fake.tokenInfo(first.body!.access_token as string)).toMatchObject({ userId: '42', scopes: ['chat:read', 'chat:edit'] });

    const again = await exchange(code);
    expect(again).toMatchObject({ status: 400, body: { status: 400, message: 'Invalid authorization code' } });
  });

  it('refuses unknown codes, wrong secrets, unknown clients and other redirect URIs', async () => {
    const code = fake.issueCode({ userId: '42', scopes: [], redirectUri: REDIRECT });
    expect((await exchange('unknown')).body).toEqual({ status: 400, message: 'Invalid authorization code' });
    expect((await exchange(code, { client_secret: 'wrong' })).body).toEqual({ status: 403, message: 'invalid client secret' });
    expect((await exchange(code, { client_secret: '' })).body).toEqual({ status: 400, message: 'missing client secret' });
    expect((await exchange(code, { client_id: 'other' })).body).toEqual({ status: 400, message: 'invalid client' });
    expect((await exchange(code, { redirect_uri: 'http://localhost:3000/other' })).body).toEqual({
      status: 400,
      message: 'Parameter redirect_uri does not match registered URI',
    });
    // None of the failed attempts used the code up.
    expect((await exchange(code)).status).toBe(200);
  });

  it('expires codes after ten minutes', async () => {
    const code = fake.issueCode({ userId: '42', scopes: [], redirectUri: REDIRECT });
    clock += 10 * 60 * 1000;
    expect((await exchange(code)).body).toEqual({ status: 400, message: 'Invalid authorization code' });
  });

  it('accepts only registered redirect URIs when some are configured', async () => {
    await fake.close();
    fake = await FakeTwitch.start({ redirectUris: [REDIRECT] });
    const code = fake.issueCode({ userId: '42', scopes: [], redirectUri: 'http://evil.example/cb' });
    const answer = await exchange(code, { redirect_uri: 'http://evil.example/cb' });
    expect(answer.body).toEqual({ status: 400, message: 'Parameter redirect_uri does not match registered URI' });
  });
});

describe('refresh_token grant', () => {
  const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
    tokenRequest({ grant_type: 'refresh_token', client_secret: 'fake-client-secret', refresh_token: refreshToken, ...extra });

  it('issues a new access token and a new refresh token; old access tokens live on', async () => {
    const seeded = fake.issueToken({ userId: '42', scopes: ['chat:read'] });
    const answer = await refresh(seeded.refreshToken);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ expires_in: 14400, scope: ['chat:read'], token_type: 'bearer' });
    expect(answer.body!.access_token).not.toBe(seeded.accessToken);
    expect(answer.body!.refresh_token).not.toBe(seeded.refreshToken);
    expect(fake.isValid(seeded.accessToken)).toBe(true);
    expect(fake.isValid(answer.body!.access_token as string)).toBe(true);
  });

  it('treats reuse of a used refresh token as theft: 400, recorded, whole grant revoked', async () => {
    const seeded = fake.issueToken({ userId: '42', scopes: ['chat:read'] });
    const bystander = fake.issueToken({ userId: '7', scopes: [] });
    const fresh = (await refresh(seeded.refreshToken)).body!;
    clock += 1000;
    const reuse = await refresh(seeded.refreshToken);
    expect(reuse.body).toEqual({ status: 400, message: 'Invalid refresh token' });
    expect(fake.reusedRefreshTokens).toEqual([{ userId: '42', at: clock }]);
    expect(fake.isValid(seeded.accessToken)).toBe(false);
    expect(fake.isValid(fresh.access_token as string)).toBe(false);
    expect(fake.tokenInfo(fresh.access_token as string)?.revoked).toBe(true);
    expect((await refresh(fresh.refresh_token as string)).body).toEqual({ status: 400, message: 'Invalid refresh token' });
    expect(fake.isValid(bystander.accessToken)).toBe(true);
  });

  it('lets refresh tokens be reused when singleUseRefreshTokens is false', async () => {
    await fake.close();
    fake = await FakeTwitch.start({ singleUseRefreshTokens: false });
    const seeded = fake.issueToken({ userId: '42', scopes: [] });
    expect((await refresh(seeded.refreshToken)).status).toBe(200);
    expect((await refresh(seeded.refreshToken)).status).toBe(200);
    expect(fake.reusedRefreshTokens).toEqual([]);
  });

  it('checks the secret of a confidential client and needs none from a public one', async () => {
    const seeded = fake.issueToken({ userId: '42', scopes: [] });
    expect((await refresh(seeded.refreshToken, { client_secret: '' })).body).toEqual({ status: 400, message: 'missing client secret' });
    expect((await refresh(seeded.refreshToken, { client_secret: 'nope' })).body).toEqual({ status: 403, message: 'invalid client secret' });
    expect((await refresh('unknown')).body).toEqual({ status: 400, message: 'Invalid refresh token' });
    expect(fake.reusedRefreshTokens).toEqual([]);

    await fake.close();
    fake = await FakeTwitch.start({ clientSecret: null });
    const publicToken = fake.issueToken({ userId: '42', scopes: [] });
    expect((await refresh(publicToken.refreshToken, { client_secret: '' })).status).toBe(200);
  });
});

describe('client_credentials grant', () => {
  it('issues app tokens without refresh token and validates them without user', async () => {
    const answer = await tokenRequest({ grant_type: 'client_credentials', client_secret: 'fake-client-secret' });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body!)).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(answer.body!.expires_in).toBe(5000000);
    const validation = await validate(fake, answer.body!.access_token as string);
    expect(validation.body).toEqual({ client_id: 'fake-client-id', scopes: null, expires_in: 5000000 });
    expect(fake.tokenInfo(answer.body!.access_token as string)).toMatchObject({ kind: 'app', userId: null });
  });

  it('refuses wrong secrets, unknown clients and public clients', async () => {
    const wrong = await tokenRequest({ grant_type: 'client_credentials', client_secret: 'x' });
    expect(wrong.body).toEqual({ status: 403, message: 'invalid client secret' });
    const unknown = await tokenRequest({ grant_type: 'client_credentials', client_id: 'x', client_secret: 'x' });
    expect(unknown.body).toEqual({ status: 400, message: 'invalid client' });
    await fake.close();
    fake = await FakeTwitch.start({ clientSecret: null });
    expect((await tokenRequest({ grant_type: 'client_credentials' })).body).toEqual({ status: 400, message: 'invalid client' });
  });
});

describe('validate', () => {
  it('describes a user token and counts its lifetime down', async () => {
    const user = fake.addUser({ userId: '42', login: 'answer' });
    const seeded = fake.issueToken({ userId: user.userId, scopes: ['chat:read'] });
    clock += 400_000;
    const answer = await validate(fake, seeded.accessToken);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ client_id: 'fake-client-id', login: 'answer', scopes: ['chat:read'], user_id: '42', expires_in: 14000 });
    const bearer = await fetch(`${fake.url}/oauth2/validate`, { headers: { authorization: `Bearer ${seeded.accessToken}` } });
    expect(bearer.status).toBe(200);
  });

  it('answers 401 for missing, unknown, expired and revoked tokens', async () => {
    const seeded = fake.issueToken({ userId: '42', scopes: [] });
    expect((await validate(fake, null)).body).toEqual({ status: 401, message: 'missing authorization token' });
    expect((await validate(fake, 'garbage')).body).toEqual({ status: 401, message: 'invalid access token' });
    expect(fake.expireToken(seeded.accessToken)).toBe(true);
    expect((await validate(fake, seeded.accessToken)).body).toEqual({ status: 401, message: 'invalid access token' });
    const other = fake.issueToken({ userId: '42', scopes: [] });
    clock += 14400 * 1000;
    expect((await validate(fake, other.accessToken)).status).toBe(401);
  });

  it('reports expires_in 0 for tokens that never expire', async () => {
    await fake.close();
    fake = await FakeTwitch.start({ accessTokenTtlSeconds: 0 });
    const code = fake.issueCode({ userId: '42', scopes: [], redirectUri: REDIRECT });
    const grant = await tokenRequest({
      grant_type: 'authorization_code',
      client_secret: 'fake-client-secret',
      code,
      redirect_uri: REDIRECT,
    });
    expect(grant.body!.expires_in).toBe(0);
    expect((await validate(fake, grant.body!.access_token as string)).body!.expires_in).toBe(0);
    expect(fake.tokenInfo(grant.body!.access_token as string)?.expiresAt).toBeNull();
  });
});

describe('revoke', () => {
  const revoke = (token: string, clientId = 'fake-client-id') => post(`${fake.idBaseUrl}/oauth2/revoke`, { client_id: clientId, token });

  it('revokes an access token with its refresh token, then calls it invalid', async () => {
    const seeded = fake.issueToken({ userId: '42', scopes: [] });
    const answer = await revoke(seeded.accessToken);
    expect(answer).toMatchObject({ status: 200, body: null });
    expect(fake.isValid(seeded.accessToken)).toBe(false);
    expect((await validate(fake, seeded.accessToken)).status).toBe(401);
    const refresh = await tokenRequest({
      grant_type: 'refresh_token',
      client_secret: 'fake-client-secret',
      refresh_token: seeded.refreshToken,
    });
    expect(refresh.body).toEqual({ status: 400, message: 'Invalid refresh token' });
    expect((await revoke(seeded.accessToken)).body).toEqual({ status: 400, message: 'Invalid token' });
    expect((await revoke('whatever', 'other-client')).body).toEqual({ status: 404, message: 'client does not exist' });
  });

  it('revokeUser ends every token of one user only', () => {
    const first = fake.issueToken({ userId: '42', scopes: [] });
    const second = fake.issueToken({ userId: '42', scopes: ['chat:read'] });
    const other = fake.issueToken({ userId: '7', scopes: [] });
    fake.revokeUser('42');
    expect([fake.isValid(first.accessToken), fake.isValid(second.accessToken), fake.isValid(other.accessToken)]).toEqual([
      false,
      false,
      true,
    ]);
  });
});
