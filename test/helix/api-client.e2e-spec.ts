import {
  HelixResponseError,
  HelixUnauthorizedError,
  MissingScopesError,
  ReauthorizationRequiredError,
  TwitchApiClient,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { caught, startFake } from '../support/secrets-guard.js';

const USERS = '/helix/users';
const CHAT = '/helix/chat/messages';

describe('TwitchApiClient against FakeTwitch', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let api: TwitchApiClient;

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake });
    api = t.app.get(TwitchApiClient);
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => fake.clearRequests());

  /** A user whose token FakeTwitch issued and the module stores (no known expiry, so only a 401 refreshes it). */
  async function seedUser(userId: string, scopes: string[]): Promise<string> {
    const issued = fake.issueToken({ userId, scopes });
    await t.tokens.addToken(userId, issued.accessToken, issued.refreshToken, scopes);
    return issued.accessToken;
  }

  it('checks scopes before the call and sends nothing when the token lacks one', async () => {
    await seedUser('1001', ['chat:read']);
    const missing = await caught(api.get('/users', { auth: { userId: '1001' }, scopes: ['moderator:read:followers'] }));
    expect(missing).toBeInstanceOf(MissingScopesError);
    expect((missing as MissingScopesError).missingScopes).toEqual(['moderator:read:followers']);

    const chat = await caught(api.sendChatMessage({ broadcasterId: '1001', senderId: '1001', message: 'hi' }));
    expect(chat).toBeInstanceOf(MissingScopesError);
    const asApp = await caught(api.sendChatMessage({ broadcasterId: '1001', senderId: '1001', message: 'hi', as: 'app' }));
    expect(asApp).toBeInstanceOf(MissingScopesError);
    expect((asApp as MissingScopesError).missingScopes).toEqual(['user:bot']);

    expect(fake.countRequests({ path: USERS })).toBe(0);
    expect(fake.countRequests({ path: CHAT })).toBe(0);
  });

  it('getUsers: by id and login with the app token, and the token own user with a user token', async () => {
    await seedUser('1002', ['user:read:email']);
    fake.addUser({ userId: '1003', login: 'someone_else' });
    const byBoth = await api.getUsers({ ids: ['1002'], logins: ['someone_else'] });
    expect(byBoth.map((user) => user.id).sort()).toEqual(['1002', '1003']);
    expect(byBoth.find((user) => user.id === '1003')).toMatchObject({ login: 'someone_else', email: null });
    expect(byBoth[0].createdAt).toBeInstanceOf(Date);
    expect(fake.requests.at(-1)!.query).toMatchObject({ login: 'someone_else' });

    const [self] = await api.getUsers({ auth: { userId: '1002' } });
    expect(self).toMatchObject({ id: '1002', email: expect.stringContaining('@') });
    const kinds = fake.requests.filter((r) => r.path === USERS).map((r) => fake.tokenInfo(r.headers.authorization.slice(7))?.kind);
    expect(kinds).toEqual(['app', 'user']);
  });

  it('sendChatMessage as the user and as the app (bot badge), each with the scopes on the right token', async () => {
    await seedUser('1004', ['user:write:chat', 'user:bot']);
    await seedUser('1005', ['channel:bot']);
    const asUser = await api.sendChatMessage({ broadcasterId: '1005', senderId: '1004', message: 'hello' });
    expect(asUser.isSent).toBe(true);
    const asApp = await api.sendChatMessage({ broadcasterId: '1005', senderId: '1004', message: 'beep', as: 'app' });
    expect(asApp.isSent).toBe(true);
    expect(fake.chatMessages.slice(-2).map((m) => [m.message, m.botBadge])).toEqual([
      ['hello', false],
      ['beep', true],
    ]);
  });

  it('a Twitch error reaches the caller typed, with its status and message', async () => {
    await seedUser('1006', ['user:write:chat']);
    const tooLong = await caught(api.sendChatMessage({ broadcasterId: '1006', senderId: '1006', message: 'x'.repeat(501) }));
    expect(tooLong).toBeInstanceOf(HelixResponseError);
    expect(tooLong).toMatchObject({ status: 400, twitchMessage: 'The message is too long', transient: false });
    expect(tooLong.message).toContain('POST /chat/messages');
  });

  it('a token expired mid-run: 100 concurrent calls cause exactly one refresh and one retry each', async () => {
    const first = await seedUser('1007', ['chat:read']);
    await api.get('/users', { auth: { userId: '1007' } });
    fake.expireToken(first);
    fake.clearRequests();

    const answers = await Promise.all(
      Array.from({ length: 100 }, () => api.get<{ data: { id: string }[] }>('/users', { auth: { userId: '1007' } })),
    );

    expect(answers.every((answer) => answer.data[0].id === '1007')).toBe(true);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    expect(fake.countRequests({ path: USERS, status: 401 })).toBe(100);
    expect(fake.countRequests({ path: USERS, status: 200 })).toBe(100);
    expect(fake.countRequests({ path: USERS })).toBe(200);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
  });

  it('a revoked user: ReauthorizationRequiredError, after one Helix request and one refused refresh', async () => {
    await seedUser('1008', ['chat:read']);
    fake.revokeUser('1008');
    const revoked = await caught(api.get('/users', { auth: { userId: '1008' } }));
    expect(revoked).toBeInstanceOf(ReauthorizationRequiredError);
    expect(fake.countRequests({ path: USERS })).toBe(1);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
  });

  it('a second 401 after the refresh is an error naming whose token, without the token', async () => {
    const token = await seedUser('1009', ['chat:read']);
    fake.failNext('helix', 2, { status: 401, message: 'Invalid OAuth token' });
    const twice = await caught(api.get('/users', { auth: { userId: '1009' } }));
    expect(twice).toBeInstanceOf(HelixUnauthorizedError);
    expect((twice as HelixUnauthorizedError).owner).toEqual({ userId: '1009' });
    expect(twice.message).toContain('user 1009');
    expect(twice.message).not.toContain(token);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    expect(fake.countRequests({ path: USERS })).toBe(2);
  });

  it('a 401 "Missing scope" is not refreshed: it reaches the caller as MissingScopesError', async () => {
    // The module believes the token holds user:write:chat; Twitch knows better.
    const issued = fake.issueToken({ userId: '1012', scopes: [] });
    await t.tokens.addToken('1012', issued.accessToken, issued.refreshToken, ['user:write:chat']);
    const missing = await caught(api.sendChatMessage({ broadcasterId: '1012', senderId: '1012', message: 'hi' }));
    expect(missing).toBeInstanceOf(MissingScopesError);
    expect((missing as MissingScopesError).missingScopes).toEqual(['user:write:chat']);
    expect(fake.countRequests({ path: CHAT })).toBe(1);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(0);
  });

  it('an intent resolves to the user holding it', async () => {
    await seedUser('1010', ['chat:read']);
    await t.tokens.addIntents('1010', ['chat']);
    const answer = await api.get<{ data: { id: string }[] }>('/users', { auth: { intent: 'chat' }, scopes: ['chat:read'] });
    expect(answer.data[0].id).toBe('1010');
  });

  it('retries a 5xx for GET, but not for POST', async () => {
    await seedUser('1011', ['user:write:chat']);
    fake.failNext('helix', 1, 500);
    await api.get('/users', { auth: { userId: '1011' } });
    expect(fake.countRequests({ path: USERS })).toBe(2);

    fake.failNext('helix', 1, 500);
    const failed = await caught(api.sendChatMessage({ broadcasterId: '1011', senderId: '1011', message: 'once' }));
    expect(failed).toMatchObject({ status: 500, transient: true });
    expect(fake.countRequests({ path: CHAT })).toBe(1);
  });

  it('paginates over 1,050 items following pagination.cursor', async () => {
    const items = Array.from({ length: 1050 }, (_, i) => ({ id: String(i) }));
    fake.addRoute({
      method: 'GET',
      path: '/helix/test/items',
      endpoint: 'helix',
      handle: (request) => {
        const first = Number(request.query.first ?? 20);
        const offset = request.query.after === undefined ? 0 : Number(Buffer.from(request.query.after, 'base64url').toString());
        const next = offset + first;
        const cursor = next < items.length ? Buffer.from(String(next)).toString('base64url') : undefined;
        return { status: 200, body: { data: items.slice(offset, next), pagination: cursor ? { cursor } : {} } };
      },
    });
    const seen: string[] = [];
    for await (const item of api.paginate<{ id: string }>('/test/items', { auth: 'app', query: { first: 100 } })) seen.push(item.id);
    expect(seen).toEqual(items.map((item) => item.id));
    expect(fake.countRequests({ path: '/helix/test/items' })).toBe(11);
  });
});

describe('TwitchApiClient rate limits', () => {
  // Long enough that 800 calls arrive within one window even on a busy machine, so an unlimited client would meet 429s.
  const WINDOW_MS = 5_000;
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake({ helixRateLimit: { points: 800, windowMs: WINDOW_MS } });
    // A call that times out on a busy machine may still reach Twitch later and spend a point the client gave back.
    t = await createTestApp({
      fake,
      options: { twitch: { idBaseUrl: fake.idBaseUrl, helixBaseUrl: fake.helixBaseUrl, timeoutMs: 30_000 } },
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('2,000 calls for one token against an 800-point bucket: no error reaches a caller, no 429', async () => {
    const issued = fake.issueToken({ userId: '2001', scopes: [] });
    await t.tokens.addToken('2001', issued.accessToken, issued.refreshToken, []);
    const api = t.app.get(TwitchApiClient);
    const started = Date.now();

    const results = await Promise.allSettled(Array.from({ length: 2000 }, () => api.get('/users', { auth: { userId: '2001' } })));

    const rejected = results.filter((result) => result.status === 'rejected');
    const tooMany = fake.countRequests({ path: USERS, status: 429 });
    const answered = fake.requests.filter((r) => r.path === USERS && r.status === 200);
    const perWindow = new Map<number, number>();
    for (const request of answered)
      perWindow.set(Math.floor(request.at / WINDOW_MS), (perWindow.get(Math.floor(request.at / WINDOW_MS)) ?? 0) + 1);
    // Informational only (never timed assertions): how the calls spread over the fake's windows, and how long they took.
    process.stdout.write(
      `rate limit: 2000 calls in ${Date.now() - started} ms, ${tooMany} x 429, windows ${[...perWindow.values()].join('/')}\n`,
    );

    expect(rejected).toEqual([]);
    expect(tooMany).toBe(0);
    expect(answered).toHaveLength(2000);
  });
});
