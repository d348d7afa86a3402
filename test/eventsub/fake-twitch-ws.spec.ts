import { readFileSync } from 'node:fs';
import type { FakeTwitch, WireEventSubSubscription, WireEventSubWsMessage } from '../../src/twitch-auth/testing/index.js';
import { startFake } from '../support/secrets-guard.js';
import { connectEventSub, waitFor, type RawEventSubClient } from './eventsub-ws-client.js';

interface VectorStep {
  event: string;
  message?: WireEventSubWsMessage;
}
const vector = JSON.parse(readFileSync(new URL('../fixtures/eventsub-websocket.json', import.meta.url), 'utf8')) as {
  sequence: VectorStep[];
};
const vectorMessage = (type: string): WireEventSubWsMessage => vector.sequence.find((step) => step.event === `RECV ${type}`)!.message!;

/** The keys of an object and of every object inside it, as dotted paths: the shape without the values. */
function shape(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => shape(inner, prefix ? `${prefix}.${key}` : key));
}

const FOLLOW_EVENT = {
  user_id: '1234',
  user_login: 'cool_user',
  user_name: 'Cool_User',
  broadcaster_user_id: '42',
  broadcaster_user_login: 'fake_streamer',
  broadcaster_user_name: 'Fake_Streamer',
  followed_at: '2026-12-01T23:23:11.833102491Z',
};

describe('FakeTwitch EventSub WebSocket', () => {
  let fake: FakeTwitch;
  const clients: RawEventSubClient[] = [];
  const connect = async (query = ''): Promise<RawEventSubClient> => {
    const client = await connectEventSub(`${fake.eventSubWebSocketUrl}${query}`);
    clients.push(client);
    return client;
  };
  const subscribe = (token: string, sessionId: string, type: string, condition: Record<string, string>, version = '1') =>
    fetch(`${fake.helixBaseUrl}/eventsub/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'client-id': fake.clientId, 'content-type': 'application/json' },
      body: JSON.stringify({ type, version, condition, transport: { method: 'websocket', session_id: sessionId } }),
    });
  const sessionOf = async (client: RawEventSubClient): Promise<string> => (await client.next('session_welcome')).payload.session!.id;

  beforeEach(async () => {
    fake = await startFake({ eventSubWelcomeTimeoutMs: 60_000, eventSubMinKeepaliveSeconds: 0.2 });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await fake.close();
  });

  it('welcomes with the shape of a real session and the asked keepalive', async () => {
    const client = await connect('?keepalive_timeout_seconds=30');
    const welcome = await client.next('session_welcome');
    expect(shape(welcome).sort()).toEqual(shape(vectorMessage('session_welcome')).sort());
    expect(welcome.payload.session).toMatchObject({ status: 'connected', keepalive_timeout_seconds: 30, reconnect_url: null });
    expect(fake.eventSubWebSocketUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    expect(fake.eventSubSessions().map((session) => session.sessionId)).toEqual([welcome.payload.session!.id]);
  });

  it('refuses a keepalive outside the allowed range with 400', async () => {
    await expect(connect('?keepalive_timeout_seconds=601')).rejects.toThrow(/400/);
    await expect(connect('?keepalive_timeout_seconds=0.1')).rejects.toThrow(/400/);
    await expect(connect('?keepalive_timeout_seconds=abc')).rejects.toThrow(/400/);
  });

  it('creates a websocket subscription with the user token and delivers published notifications in Twitch shape', async () => {
    const { accessToken } = fake.issueToken({ userId: '42', scopes: ['moderator:read:followers'] });
    const client = await connect();
    const sessionId = await sessionOf(client);
    const created = await subscribe(accessToken, sessionId, 'channel.follow', { broadcaster_user_id: '42', moderator_user_id: '42' }, '2');
    expect(created.status).toBe(202);
    const body = (await created.json()) as { data: WireEventSubSubscription[]; max_total_cost: number };
    expect(body.data[0]).toMatchObject({ status: 'enabled', cost: 0, transport: { method: 'websocket', session_id: sessionId } });
    expect(body.data[0].transport.connected_at).toEqual(expect.any(String));
    expect(body.max_total_cost).toBe(10);

    const result = await fake.publishEventSub('channel.follow', '2', FOLLOW_EVENT, { condition: { broadcaster_user_id: '42' } });
    const notification = await client.next('notification');
    expect(shape(notification).sort()).toEqual(shape(vectorMessage('notification')).sort());
    expect(notification.metadata).toMatchObject({ subscription_type: 'channel.follow', subscription_version: '2' });
    expect(notification.payload.event).toEqual(FOLLOW_EVENT);
    expect(notification.payload.subscription!.id).toBe(body.data[0].id);
    expect(result.messageIds).toEqual([notification.metadata.message_id]);
    expect(fake.eventSubDeliveries()).toEqual([
      expect.objectContaining({
        messageId: notification.metadata.message_id,
        transport: 'websocket',
        sessionId,
        subscriptionId: body.data[0].id,
      }),
    ]);
    const other = await fake.publishEventSub('channel.follow', '2', FOLLOW_EVENT, { condition: { broadcaster_user_id: '43' } });
    expect(other.deliveries).toEqual([]);
  });

  it('keeps message order on one socket and sends the given message id and timestamp', async () => {
    const { accessToken } = fake.issueToken({ userId: '42', scopes: [] });
    const client = await connect();
    const sessionId = await sessionOf(client);
    expect((await subscribe(accessToken, sessionId, 'stream.online', { broadcaster_user_id: '42' })).status).toBe(202);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(...(await fake.publishEventSub('stream.online', '1', { id: String(i) })).messageIds);
    await fake.publishEventSub('stream.online', '1', { id: 'old' }, { messageId: 'fixed-id', timestamp: '2020-01-01T00:00:00.000000000Z' });
    const received: WireEventSubWsMessage[] = [];
    for (let i = 0; i <= 200; i++) received.push(await client.next('notification'));
    expect(received.slice(0, 200).map((message) => message.metadata.message_id)).toEqual(ids);
    expect(received.slice(0, 200).map((message) => message.payload.event!.id)).toEqual(ids.map((_, i) => String(i)));
    expect(received[200].metadata).toMatchObject({ message_id: 'fixed-id', message_timestamp: '2020-01-01T00:00:00.000000000Z' });
  });

  it('sends a keepalive after the asked silence, and none while paused', async () => {
    const client = await connect('?keepalive_timeout_seconds=0.2');
    const sessionId = await sessionOf(client);
    const keepalive = await client.next('session_keepalive');
    expect(shape(keepalive).sort()).toEqual(shape(vectorMessage('session_keepalive')).sort());
    fake.pauseKeepalives(sessionId);
    const before = fake.eventSubSessions()[0].keepalivesSent;
    // Paused: a message still goes out (the socket is alive), but no keepalive.
    const { accessToken } = fake.issueToken({ userId: '42', scopes: [] });
    await subscribe(accessToken, sessionId, 'stream.online', { broadcaster_user_id: '42' });
    for (let i = 0; i < 3; i++) {
      await fake.publishEventSub('stream.online', '1', { i });
      await client.next('notification');
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(fake.eventSubSessions()[0].keepalivesSent).toBe(before);
    fake.pauseKeepalives(sessionId, false);
    await client.next('session_keepalive');
  });

  it('closes with 4001 when the client sends anything, and its subscriptions end', async () => {
    const { accessToken } = fake.issueToken({ userId: '42', scopes: [] });
    const client = await connect();
    const sessionId = await sessionOf(client);
    await subscribe(accessToken, sessionId, 'stream.online', { broadcaster_user_id: '42' });
    client.socket.send('hello');
    expect(await client.closed).toBe(4001);
    expect(fake.eventSubSubscriptions()[0]).toMatchObject({ status: 'websocket_received_inbound_traffic' });
    expect(fake.eventSubSubscriptions()[0].transport.disconnected_at).toEqual(expect.any(String));
    expect((await fake.publishEventSub('stream.online', '1', {})).deliveries).toEqual([]);
  });

  it('closes with 4003 when no subscription is created in time after the welcome', async () => {
    await fake.close();
    fake = await startFake({ eventSubWelcomeTimeoutMs: 300 });
    const unused = await connect();
    const used = await connect();
    const { accessToken } = fake.issueToken({ userId: '42', scopes: [] });
    expect((await subscribe(accessToken, await sessionOf(used), 'stream.online', { broadcaster_user_id: '42' })).status).toBe(202);
    expect(await unused.closed).toBe(4003);
    expect(fake.eventSubSessions().map((session) => session.status)).toEqual(['closed', 'connected']);
  });

  it('marks a client-closed session websocket_disconnected and refuses new subscriptions on it', async () => {
    const { accessToken } = fake.issueToken({ userId: '42', scopes: [] });
    const client = await connect();
    const sessionId = await sessionOf(client);
    await subscribe(accessToken, sessionId, 'stream.online', { broadcaster_user_id: '42' });
    client.close();
    await client.closed;
    await waitFor(() => fake.eventSubSubscriptions()[0].status === 'websocket_disconnected');
    const refused = await subscribe(accessToken, sessionId, 'stream.offline', { broadcaster_user_id: '42' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({
      status: 400,
      message: 'websocket transport session does not exist or has already disconnected',
    });
    expect((await subscribe(accessToken, 'no-such-session', 'stream.offline', { broadcaster_user_id: '42' })).status).toBe(400);
  });

  it('reconnects: the new welcome has a new session id, subscriptions carry over, the old socket is closed', async () => {
    const { accessToken } = fake.issueToken({ userId: '42', scopes: [] });
    const old = await connect('?keepalive_timeout_seconds=20');
    const oldId = await sessionOf(old);
    await subscribe(accessToken, oldId, 'stream.online', { broadcaster_user_id: '42' });
    const url = fake.reconnectEventSubSession(oldId);
    const reconnect = await old.next('session_reconnect');
    expect(shape(reconnect).sort()).toEqual(shape(vectorMessage('session_reconnect')).sort());
    expect(reconnect.payload.session).toMatchObject({
      id: oldId,
      status: 'reconnecting',
      keepalive_timeout_seconds: null,
      reconnect_url: url,
    });
    expect(url.startsWith(`${fake.eventSubWebSocketUrl}?`)).toBe(true);
    // Until the new socket is welcomed, the old one still gets notifications.
    await fake.publishEventSub('stream.online', '1', { n: 1 });
    expect((await old.next('notification')).payload.event).toEqual({ n: 1 });

    const renewed = await connect(url.slice(fake.eventSubWebSocketUrl.length));
    const welcome = await renewed.next('session_welcome');
    expect(welcome.payload.session).toMatchObject({ status: 'connected', keepalive_timeout_seconds: 20, reconnect_url: null });
    const newId = welcome.payload.session!.id;
    expect(newId).not.toBe(oldId);
    expect(await old.closed).toBe(1000);
    await fake.publishEventSub('stream.online', '1', { n: 2 });
    const moved = await renewed.next('notification');
    expect(moved.payload.event).toEqual({ n: 2 });
    expect(moved.payload.subscription!.transport).toEqual({ method: 'websocket', session_id: newId });
    expect(fake.eventSubSubscriptions().map((subscription) => subscription.status)).toEqual(['enabled']);
    expect(fake.eventSubSessions().find((session) => session.sessionId === newId)!.reconnectedFrom).toBe(oldId);
    // A reconnect URL works once.
    const replay = await connect(url.slice(fake.eventSubWebSocketUrl.length));
    expect(await replay.closed).toBe(4007);
  });

  it('closes the old socket with 4004 when the reconnect does not happen within the grace', async () => {
    await fake.close();
    fake = await startFake({ eventSubReconnectGraceMs: 300, eventSubWelcomeTimeoutMs: 60_000 });
    const { accessToken } = fake.issueToken({ userId: '42', scopes: [] });
    const client = await connect();
    const sessionId = await sessionOf(client);
    await subscribe(accessToken, sessionId, 'stream.online', { broadcaster_user_id: '42' });
    fake.reconnectEventSubSession(sessionId);
    expect(await client.closed).toBe(4004);
    expect(fake.eventSubSubscriptions()[0].status).toBe('websocket_failed_to_reconnect');
  });

  it('drops a socket with the code asked for', async () => {
    const client = await connect();
    const sessionId = await sessionOf(client);
    fake.dropEventSubSocket(sessionId, 4005);
    expect(await client.closed).toBe(4005);
  });
});
