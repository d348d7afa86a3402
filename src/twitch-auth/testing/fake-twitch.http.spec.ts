import { FakeTwitch, twitchErrorResponse } from './index.js';

let clock = 1_700_000_000_000;
let fake: FakeTwitch;

beforeEach(async () => {
  clock = 1_700_000_000_000;
  fake = await FakeTwitch.start({ now: () => clock });
});
afterEach(() => fake.close());

const validate = (token: string, signal?: AbortSignal) =>
  fetch(`${fake.url}/oauth2/validate`, { headers: { authorization: `OAuth ${token}` }, signal });

const refresh = (refreshToken: string) =>
  fetch(`${fake.url}/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      client_id: 'fake-client-id',
      client_secret: 'fake-client-secret',
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    }),
  });

describe('failNext', () => {
  it('answers 500 the given number of times, then recovers', async () => {
    const { accessToken } = fake.issueToken({ userId: '42', scopes: [] });
    fake.failNext('validate', 2, 500);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await validate(accessToken)).status);
    expect(statuses).toEqual([500, 500, 200]);
  });

  it('answers 429 with Twitch rate-limit headers', async () => {
    fake.failNext('token', 1, 429);
    const res = await refresh('anything');
    expect(res.status).toBe(429);
    expect(res.headers.get('ratelimit-reset')).toBe(String(Math.ceil(clock / 1000) + 1));
    expect(res.headers.get('ratelimit-remaining')).toBe('0');
    expect(await res.json()).toMatchObject({ status: 429 });
  });

  it('answers a chosen status and message, only for the chosen grant type', async () => {
    const seeded = fake.issueToken({ userId: '42', scopes: [] });
    fake.failNext('token', 1, { status: 503, message: 'upstream down' }, { grantType: 'refresh_token' });
    const appToken = await fetch(`${fake.url}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'fake-client-id', client_secret: 'fake-client-secret', grant_type: 'client_credentials' }),
    });
    expect(appToken.status).toBe(200);
    const failed = await refresh(seeded.refreshToken);
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({ status: 503, message: 'upstream down' });
    // Failing before handling leaves the refresh token unused.
    expect((await refresh(seeded.refreshToken)).status).toBe(200);
  });

  it('can lose the answer after the request took effect', async () => {
    const seeded = fake.issueToken({ userId: '42', scopes: [] });
    fake.failNext('token', 1, 500, { afterHandling: true });
    expect((await refresh(seeded.refreshToken)).status).toBe(500);
    const retry = await refresh(seeded.refreshToken);
    expect(await retry.json()).toEqual({ status: 400, message: 'Invalid refresh token' });
    expect(fake.reusedRefreshTokens).toHaveLength(1);
  });

  it('hangs on timeout until the client gives up, and close() still returns promptly', async () => {
    fake.failNext('validate', 2, 'timeout');
    await expect(validate('x', AbortSignal.timeout(200))).rejects.toThrow();
    const hung = validate('y');
    hung.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.requests.map((request) => request.status)).toEqual([undefined, undefined]);
    const started = Date.now();
    await fake.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(hung).rejects.toThrow();
  });

  it('resets the connection', async () => {
    fake.failNext('revoke', 1, 'reset');
    const revoke = fetch(`${fake.url}/oauth2/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'fake-client-id', token: 'x' }),
    });
    await expect(revoke).rejects.toThrow('fetch failed');
  });

  it('applies to extra routes through their endpoint group', async () => {
    fake.addRoute({
      method: 'GET',
      path: '/helix/eventsub/subscriptions',
      endpoint: 'helix',
      handle: (request) =>
        request.headers['client-id'] ? { status: 200, body: { data: [], total: 0 } } : twitchErrorResponse(401, 'Client ID is missing'),
    });
    fake.failNext('helix', 1, 500);
    const url = `${fake.helixBaseUrl}/eventsub/subscriptions`;
    expect((await fetch(url, { headers: { 'client-id': 'c' } })).status).toBe(500);
    expect(await (await fetch(url, { headers: { 'client-id': 'c' } })).json()).toEqual({ data: [], total: 0 });
    expect(await (await fetch(url)).json()).toEqual({ status: 401, message: 'Client ID is missing' });
  });
});

describe('observation', () => {
  it('records every request with its parameters, headers, grant type, time and status', async () => {
    await fetch(`${fake.url}/oauth2/token?client_id=fake-client-id`, {
      method: 'POST',
      headers: { 'X-Custom': 'Yes' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r', client_secret: 'fake-client-secret' }),
    });
    clock += 5;
    await validate('nope');
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/oauth2/token',
      query: { client_id: 'fake-client-id' },
      form: { grant_type: 'refresh_token', refresh_token: 'r', client_secret: 'fake-client-secret' },
      grantType: 'refresh_token',
      at: 1_700_000_000_000,
      status: 400,
    });
    expect(fake.requests[0].headers['x-custom']).toBe('Yes');
    expect(fake.requests[1]).toMatchObject({ method: 'GET', path: '/oauth2/validate', at: clock, status: 401 });
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    expect(fake.countRequests({ method: 'get' })).toBe(1);
    expect(fake.countRequests({ status: 200 })).toBe(0);
    fake.clearRequests();
    expect(fake.countRequests()).toBe(0);
  });

  it('reset() forgets tokens, users and failures but keeps the default user', async () => {
    const seeded = fake.issueToken({ userId: '42', scopes: [] });
    fake.failNext('validate', 1, 500);
    fake.reset();
    expect(fake.tokenInfo(seeded.accessToken)).toBeNull();
    expect(fake.getUser('42')).toBeNull();
    expect(fake.browserUser).toEqual(fake.defaultUser);
    const fresh = fake.issueToken({ userId: '42', scopes: [] });
    expect((await validate(fresh.accessToken)).status).toBe(200);
  });
});

describe('server', () => {
  it('answers 1000 concurrent requests quickly', async () => {
    const tokens = Array.from({ length: 1000 }, (_, i) => fake.issueToken({ userId: String(i + 1), scopes: [] }).accessToken);
    const started = Date.now();
    const statuses = await Promise.all(tokens.map(async (token) => (await validate(token)).status));
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('adds latencyMs to every answer', async () => {
    await fake.close();
    fake = await FakeTwitch.start({ latencyMs: 150 });
    const started = Date.now();
    expect((await validate('x')).status).toBe(401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('closes promptly with keep-alive connections open', async () => {
    await validate('x');
    const started = Date.now();
    await fake.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(validate('x')).rejects.toThrow();
  });

  it('rejects invalid options with a clear message', async () => {
    await expect(FakeTwitch.start({ latencyMs: -1 })).rejects.toThrow('latencyMs');
  });
});
