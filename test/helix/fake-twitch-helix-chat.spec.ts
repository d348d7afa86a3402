import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { startFake } from '../support/secrets-guard.js';

/** FakeTwitch's /users, /chat/messages and rate limit, spoken to over raw HTTP as Twitch would be. */
describe('FakeTwitch Helix users, chat and rate limits', () => {
  let fake: FakeTwitch;

  beforeAll(async () => {
    fake = await startFake({ helixRateLimit: { points: 3, windowMs: 60_000 } });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  function helix(path: string, token: string, init: { method?: string; json?: unknown } = {}): Promise<Response> {
    return fetch(`${fake.helixBaseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: { Authorization: `Bearer ${token}`, 'Client-Id': fake.clientId, 'Content-Type': 'application/json' },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  }

  it('answers /users by repeated id and login, and the token user without either; 400 for an app token without either', async () => {
    fake.addUser({ userId: '11', login: 'eleven' });
    fake.addUser({ userId: '12', login: 'twelve' });
    const app = fake.issueAppToken().accessToken;
    const both = await helix('/users?id=11&id=12&login=TWELVE', app);
    expect(both.status).toBe(200);
    expect(((await both.json()) as { data: { id: string }[] }).data.map((u) => u.id).sort()).toEqual(['11', '12']);
    expect((await helix('/users', app)).status).toBe(400);
    const user = fake.issueToken({ userId: '11', scopes: [] }).accessToken;
    const self = (await (await helix('/users', user)).json()) as { data: { login: string; email?: string }[] };
    expect(self.data).toEqual([expect.objectContaining({ login: 'eleven' })]);
    expect(self.data[0].email).toBeUndefined();
  });

  it('answers 401 for expired and revoked tokens', async () => {
    const expired = fake.issueToken({ userId: '13', scopes: [] }).accessToken;
    fake.expireToken(expired);
    expect((await helix('/users', expired)).status).toBe(401);
    const revoked = fake.issueToken({ userId: '14', scopes: [] }).accessToken;
    fake.revokeToken(revoked);
    expect((await helix('/users', revoked)).status).toBe(401);
  });

  it('chat: a user token needs user:write:chat and must be the sender; an app token needs user:bot and channel:bot', async () => {
    const message = { broadcaster_id: '21', sender_id: '20', message: 'hi' };
    const noScope = fake.issueToken({ userId: '20', scopes: [] }).accessToken;
    const missing = await helix('/chat/messages', noScope, { method: 'POST', json: message });
    expect([missing.status, ((await missing.json()) as { message: string }).message]).toEqual([401, 'Missing scope: user:write:chat']);
    const writer = fake.issueToken({ userId: '22', scopes: ['user:write:chat'] }).accessToken;
    expect((await helix('/chat/messages', writer, { method: 'POST', json: message })).status).toBe(403);

    const app = fake.issueAppToken().accessToken;
    expect((await helix('/chat/messages', app, { method: 'POST', json: message })).status).toBe(403);
    fake.issueToken({ userId: '20', scopes: ['user:bot'] });
    expect((await helix('/chat/messages', app, { method: 'POST', json: message })).status).toBe(403);
    expect(fake.chatMessages).toEqual([]);
  });

  it('chat with the app token and both grants shows the bot badge', async () => {
    const app = fake.issueAppToken().accessToken;
    fake.issueToken({ userId: '30', scopes: ['user:bot'] });
    fake.issueToken({ userId: '31', scopes: ['channel:bot'] });
    const sent = await helix('/chat/messages', app, { method: 'POST', json: { broadcaster_id: '31', sender_id: '30', message: 'beep' } });
    expect(sent.status).toBe(200);
    expect(fake.chatMessages).toEqual([expect.objectContaining({ senderId: '30', broadcasterId: '31', message: 'beep', botBadge: true })]);
  });

  it('counts points per token: Ratelimit headers on every answer, a real 429 past the limit, other tokens unaffected', async () => {
    const user = fake.issueToken({ userId: '40', scopes: [] }).accessToken;
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await helix('/users', user);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit-limit')).toBe('3');
      remaining.push(answer.headers.get('ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await helix('/users', user);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('ratelimit-reset')) * 1000).toBeGreaterThan(Date.now() - 1000);
    // Another token of the same user shares the user's bucket; the app has its own.
    expect((await helix('/users', fake.issueToken({ userId: '40', scopes: [] }).accessToken)).status).toBe(429);
    expect((await helix('/users?id=40', fake.issueAppToken().accessToken)).status).toBe(200);
    expect(fake.countRequests({ path: '/helix/users', status: 429 })).toBe(2);
  });
});
