import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { startFake } from '../support/secrets-guard.js';
import { connectEventSub, type RawEventSubClient } from './eventsub-ws-client.js';

/** Twitch's WebSocket rules on `POST /eventsub/subscriptions`: who may subscribe, and how much. */
describe('FakeTwitch EventSub WebSocket subscription rules', () => {
  let fake: FakeTwitch;
  const clients: RawEventSubClient[] = [];
  const session = async (): Promise<string> => {
    const client = await connectEventSub(fake.eventSubWebSocketUrl);
    clients.push(client);
    return (await client.next('session_welcome')).payload.session!.id;
  };
  const helix = (method: string, token: string, body?: unknown, query = '') =>
    fetch(`${fake.helixBaseUrl}/eventsub/subscriptions${query}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'client-id': fake.clientId, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const ws = (sessionId: string, type: string, condition: Record<string, string>) => ({
    type,
    version: '1',
    condition,
    transport: { method: 'websocket', session_id: sessionId },
  });
  const answer = async (response: Response) => ({ status: response.status, body: (await response.json()) as unknown });

  beforeEach(async () => {
    fake = await startFake({ eventSubWelcomeTimeoutMs: 120_000 });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await fake.close();
  });

  it('needs a user token (400 with an app token) of the user the condition names (403 otherwise)', async () => {
    const user = fake.issueToken({ userId: '42', scopes: [] }).accessToken;
    const app = fake.issueAppToken().accessToken;
    const sessionId = await session();
    const chat = (userId: string) => ws(sessionId, 'channel.chat.message', { broadcaster_user_id: '7', user_id: userId });
    expect(await answer(await helix('POST', app, chat('42')))).toEqual({
      status: 400,
      body: { status: 400, message: 'invalid transport and auth combination' },
    });
    expect(await answer(await helix('POST', user, chat('43')))).toEqual({
      status: 403,
      body: { status: 403, message: 'subscription missing proper authorization' },
    });
    const follow = { broadcaster_user_id: '7', moderator_user_id: '43' };
    expect((await helix('POST', user, ws(sessionId, 'channel.follow', follow))).status).toBe(403);
    expect((await helix('POST', user, chat('42'))).status).toBe(202);
    expect((await helix('POST', user, chat('42'))).status).toBe(409);
    // A socket serves one user.
    const other = fake.issueToken({ userId: '43', scopes: [] }).accessToken;
    expect(
      await answer(await helix('POST', other, ws(sessionId, 'channel.chat.message', { broadcaster_user_id: '7', user_id: '43' }))),
    ).toEqual({
      status: 400,
      body: { status: 400, message: 'websocket transport cannot have subscriptions created by different users' },
    });
  });

  it('with a user token, lists and deletes only the WebSocket subscriptions of that user', async () => {
    const user = fake.issueToken({ userId: '42', scopes: [] }).accessToken;
    const other = fake.issueToken({ userId: '43', scopes: [] }).accessToken;
    const app = fake.issueAppToken().accessToken;
    const created = (await (await helix('POST', user, ws(await session(), 'stream.online', { broadcaster_user_id: '42' }))).json()) as {
      data: { id: string }[];
    };
    const id = created.data[0].id;
    const list = async (token: string) => ((await (await helix('GET', token)).json()) as { data: { id: string }[] }).data.map((s) => s.id);
    expect(await list(user)).toEqual([id]);
    expect(await list(other)).toEqual([]);
    expect(await list(app)).toEqual([]);
    expect((await helix('DELETE', other, undefined, `?id=${id}`)).status).toBe(404);
    expect((await helix('DELETE', user, undefined, `?id=${id}`)).status).toBe(204);
    expect(await list(user)).toEqual([]);
  });

  it('allows 3 sockets with enabled subscriptions per user, then answers 429', async () => {
    const user = fake.issueToken({ userId: '42', scopes: [] }).accessToken;
    for (let i = 0; i < 3; i++)
      expect((await helix('POST', user, ws(await session(), 'stream.online', { broadcaster_user_id: '42' }))).status).toBe(202);
    expect(await answer(await helix('POST', user, ws(await session(), 'stream.online', { broadcaster_user_id: '42' })))).toEqual({
      status: 429,
      body: { status: 429, message: 'number of websocket transports limit exceeded' },
    });
    // Another user has sockets of their own.
    const other = fake.issueToken({ userId: '43', scopes: [] }).accessToken;
    expect((await helix('POST', other, ws(await session(), 'stream.online', { broadcaster_user_id: '43' }))).status).toBe(202);
  });

  it('allows 300 enabled subscriptions per socket, then answers 429', async () => {
    const user = fake.issueToken({ userId: '42', scopes: [] }).accessToken;
    const sessionId = await session();
    const chat = (i: number) => ws(sessionId, 'channel.chat.message', { broadcaster_user_id: String(1000 + i), user_id: '42' });
    const statuses = await Promise.all(Array.from({ length: 300 }, (_, i) => helix('POST', user, chat(i)).then((r) => r.status)));
    expect(statuses.filter((status) => status === 202)).toHaveLength(300);
    expect(await answer(await helix('POST', user, chat(300)))).toEqual({
      status: 429,
      body: { status: 429, message: 'number of subscriptions per websocket transport limit exceeded' },
    });
  });

  it('allows a total cost of 10 per user (other broadcasters cost 1, own ones 0), then answers 429', async () => {
    const user = fake.issueToken({ userId: '42', scopes: [] }).accessToken;
    const sessionId = await session();
    const online = (broadcaster: string) => ws(sessionId, 'stream.online', { broadcaster_user_id: broadcaster });
    const first = (await (await helix('POST', user, online('42'))).json()) as { data: { cost: number }[] };
    expect(first.data[0].cost).toBe(0);
    for (let i = 0; i < 10; i++) expect((await helix('POST', user, online(String(500 + i)))).status).toBe(202);
    expect(await answer(await helix('POST', user, online('600')))).toEqual({
      status: 429,
      body: { status: 429, message: 'websocket transport total cost exceeded' },
    });
    const listed = (await (await helix('GET', user)).json()) as { total: number; total_cost: number; max_total_cost: number };
    expect(listed).toMatchObject({ total: 11, total_cost: 10, max_total_cost: 10 });
  });
});
