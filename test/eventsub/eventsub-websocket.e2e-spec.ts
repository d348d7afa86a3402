import {
  EventSubNotConfiguredError,
  EventSubService,
  EventSubWebSocketLimitError,
  MissingScopesError,
  type EventSubNotification,
  type ChannelFollowEvent,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { caught, startFake } from '../support/secrets-guard.js';
import { EventSubListener, eventually, followEventFor } from './eventsub-support.js';

const FOLLOW_SCOPES = ['moderator:read:followers'];
const WAIT_MS = 30_000;

function followEvent(n: number, broadcaster: string): Record<string, unknown> {
  return followEventFor(broadcaster, { id: `9${n}`, login: `follower${n}`, name: `Follower${n}` });
}

describe('EventSub over WebSocket (user tokens) against FakeTwitch', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let listener: EventSubListener;
  let service: EventSubService;

  beforeEach(async () => {
    fake = await startFake({ helixRateLimit: false });
    // No webhook options at all: the WebSocket transport needs none.
    t = await createTestApp({
      fake,
      providers: [EventSubListener],
      options: { twitch: { idBaseUrl: fake.idBaseUrl, helixBaseUrl: fake.helixBaseUrl, eventSubWebSocketUrl: fake.eventSubWebSocketUrl } },
    });
    listener = t.app.get(EventSubListener);
    service = t.app.get(EventSubService);
  });

  afterEach(async () => {
    await t.close();
    await fake.close();
  });

  async function user(scopes: string[] = FOLLOW_SCOPES): Promise<string> {
    const { userId } = fake.addUser();
    const issued = fake.issueToken({ userId, scopes });
    await t.tokens.addUser(issued.accessToken, issued.refreshToken);
    return userId;
  }

  const follow = (userId: string) => ({ broadcaster_user_id: userId, moderator_user_id: userId });
  const creates = () => fake.requests.filter((r) => r.path === '/helix/eventsub/subscriptions' && r.method === 'POST');
  const openSessions = () => fake.eventSubSessions().filter((s) => s.status !== 'closed');

  it('welcome → subscribe with the user token → notifications arrive as the same typed events, labelled websocket', async () => {
    const userId = await user();
    const subscription = await service.subscribe('channel.follow', '2', follow(userId), { transport: 'websocket', userId });
    expect(subscription).toMatchObject({ type: 'channel.follow', status: 'enabled', transport: { method: 'websocket' } });
    expect(subscription.transport.sessionId).toBe(openSessions()[0].sessionId);

    const published = [];
    for (let n = 0; n < 3; n++) published.push(...(await fake.publishEventSub('channel.follow', '2', followEvent(n, userId))).messageIds);
    await eventually(() => listener.follows.length === 3, WAIT_MS);
    expect(listener.follows.map((f) => f.messageId)).toEqual(published);
    const first: EventSubNotification<ChannelFollowEvent> = listener.follows[0];
    expect(first.transport).toBe('websocket');
    expect(first.event).toMatchObject({ userId: '90', userLogin: 'follower0', broadcasterUserId: userId });
    expect(first.event.followedAt).toBeInstanceOf(Date);
    expect(await service.list({ transport: 'websocket', userId })).toEqual([subscription]);
  });

  it('drops a repeated message id (shared ClaimStore) and messages older than 10 minutes', async () => {
    const userId = await user();
    await service.subscribe('channel.follow', '2', follow(userId), { transport: 'websocket', userId });
    await fake.publishEventSub('channel.follow', '2', followEvent(1, userId), { messageId: 'repeated-id' });
    await fake.publishEventSub('channel.follow', '2', followEvent(2, userId), { messageId: 'repeated-id' });
    await fake.publishEventSub('channel.follow', '2', followEvent(3, userId), { timestamp: new Date(Date.now() - 11 * 60_000) });
    const { messageIds } = await fake.publishEventSub('channel.follow', '2', followEvent(4, userId));
    // Messages on one socket arrive in order: once the last is seen, the others were handled.
    await eventually(() => listener.follows.some((f) => f.messageId === messageIds[0]), WAIT_MS);
    expect(listener.follows.map((f) => f.messageId)).toEqual(['repeated-id', messageIds[0]]);
  });

  it('checks scopes before opening a socket or calling Twitch', async () => {
    const userId = await user(['chat:read']);
    const error = await caught(service.subscribe('channel.follow', '2', follow(userId), { transport: 'websocket', userId }));
    expect(error).toBeInstanceOf(MissingScopesError);
    expect(fake.eventSubSessions()).toEqual([]);
    expect(creates()).toEqual([]);
  });

  it('a webhook subscription in a WebSocket-only app still fails with the clear configuration error', async () => {
    const error = await caught(service.subscribe('stream.online', '1', { broadcaster_user_id: '1' }));
    expect(error).toBeInstanceOf(EventSubNotConfiguredError);
    expect(error.message).toMatch(/pass eventSub: \{ secret, publicUrl \}/);
    expect(creates()).toEqual([]);
  });

  it('session_reconnect in the middle of 1,000 messages: none lost, none twice, nothing re-created', async () => {
    const userId = await user();
    await service.subscribe('channel.follow', '2', follow(userId), { transport: 'websocket', userId });
    const [session] = openSessions();
    const sent: Promise<{ messageIds: string[] }>[] = [];
    for (let n = 0; n < 1000; n++) {
      const publishing = fake.publishEventSub('channel.follow', '2', followEvent(n, userId));
      sent.push(publishing);
      if (n === 300) fake.reconnectEventSubSession(session.sessionId);
      // After the reconnect, one message per turn of the event loop (sockets get to run): the switch happens while the stream goes on.
      if (n >= 300) await new Promise((resolve) => setImmediate(resolve));
    }
    const ids = (await Promise.all(sent)).flatMap((r) => r.messageIds);
    expect(ids).toHaveLength(1000);
    await eventually(() => listener.follows.length >= 1000, WAIT_MS);
    const received = listener.follows.map((f) => f.messageId);
    expect(new Set(received).size).toBe(received.length);
    expect(new Set(received)).toEqual(new Set(ids));
    await eventually(() => fake.eventSubSessions()[0].status === 'closed', WAIT_MS);
    const sessions = fake.eventSubSessions();
    expect(sessions).toHaveLength(2);
    expect(sessions[1].reconnectedFrom).toBe(session.sessionId);
    // Both sockets carried part of the stream.
    const bySession = new Map<string, number>();
    for (const d of fake.eventSubDeliveries()) bySession.set(d.sessionId!, (bySession.get(d.sessionId!) ?? 0) + 1);
    expect(bySession.get(sessions[0].sessionId)).toBeGreaterThan(300);
    expect(bySession.get(sessions[1].sessionId)).toBeGreaterThan(0);
    expect(creates()).toHaveLength(1);
  });

  it('missed keepalives: the silent socket is replaced and its subscriptions created again', async () => {
    const userId = await user();
    await service.subscribe('channel.follow', '2', follow(userId), { transport: 'websocket', userId });
    const [silent] = openSessions();
    fake.pauseKeepalives(silent.sessionId);
    await eventually(
      () => openSessions().some((s) => s.sessionId !== silent.sessionId && s.messagesSent > 0) && creates().length === 2,
      WAIT_MS,
    );
    const [replacement] = (await service.list({ transport: 'websocket', userId })).map((s) => s.transport.sessionId);
    expect(replacement).not.toBe(silent.sessionId);
    const { messageIds } = await fake.publishEventSub('channel.follow', '2', followEvent(1, userId));
    await eventually(() => listener.follows.length === 1, WAIT_MS);
    expect(listener.follows[0].messageId).toBe(messageIds[0]);
  });

  it('a socket Twitch drops (4006) is reopened, its subscriptions created again, and no socket is left unused (4003)', async () => {
    const userId = await user();
    await service.subscribe('channel.follow', '2', follow(userId), { transport: 'websocket', userId });
    const [dropped] = openSessions();
    fake.dropEventSubSocket(dropped.sessionId, 4006);
    await eventually(() => creates().length === 2 && openSessions().length === 1, WAIT_MS);
    expect(fake.eventSubSessions().map((s) => s.closeCode)).not.toContain(4003);
    await fake.publishEventSub('channel.follow', '2', followEvent(1, userId));
    await eventually(() => listener.follows.length === 1, WAIT_MS);
  });

  it('refuses past total cost 10 with a clear error, before Twitch answers 429', async () => {
    const userId = await user();
    for (let n = 0; n < 10; n++) {
      await service.subscribe('stream.online', '1', { broadcaster_user_id: `70${n}` }, { transport: 'websocket', userId });
    }
    const error = await caught(
      service.subscribe('stream.online', '1', { broadcaster_user_id: '7099' }, { transport: 'websocket', userId }),
    );
    expect(error).toBeInstanceOf(EventSubWebSocketLimitError);
    expect(error).toMatchObject({ limit: 'total-cost', current: 10, maximum: 10 });
    expect(error.message).toMatch(/cost 10 of the 10/);
    expect(creates()).toHaveLength(10);
    // Free subscriptions (the condition names the token's user) still fit.
    await service.subscribe('channel.follow', '2', follow(userId), { transport: 'websocket', userId });
  });

  it('puts at most 300 subscriptions on a socket, opens at most 3, and refuses the next with a clear error', async () => {
    const userId = await user(['moderator:read:followers', 'channel:read:subscriptions']);
    for (let n = 0; n < 900; n++) {
      await service.subscribe(
        'channel.follow',
        '2',
        { broadcaster_user_id: userId, moderator_user_id: userId, n: String(n) },
        {
          transport: 'websocket',
          userId,
        },
      );
    }
    const perSession = new Map<string, number>();
    for (const s of fake.eventSubSubscriptions())
      perSession.set(s.transport.session_id!, (perSession.get(s.transport.session_id!) ?? 0) + 1);
    expect([...perSession.values()]).toEqual([300, 300, 300]);
    const error = await caught(
      service.subscribe('channel.subscribe', '1', { broadcaster_user_id: userId }, { transport: 'websocket', userId }),
    );
    expect(error).toBeInstanceOf(EventSubWebSocketLimitError);
    expect(error).toMatchObject({ limit: 'sockets-per-user', current: 3, maximum: 3 });
    expect(creates()).toHaveLength(900);
    expect(openSessions()).toHaveLength(3);
  });

  it('unsubscribe deletes at Twitch, forgets the subscription and closes the emptied socket', async () => {
    const userId = await user();
    const subscription = await service.subscribe('channel.follow', '2', follow(userId), { transport: 'websocket', userId });
    expect(await service.unsubscribe(subscription.id)).toBe(true);
    expect(fake.eventSubSubscriptions().filter((s) => s.status === 'enabled')).toEqual([]);
    expect(await service.list({ transport: 'websocket' })).toEqual([]);
    await eventually(() => openSessions().length === 0, WAIT_MS);
  });

  it('a revocation is dispatched once, labelled websocket, and the subscription is not created again', async () => {
    const userId = await user();
    const subscription = await service.subscribe('channel.follow', '2', follow(userId), { transport: 'websocket', userId });
    await fake.revokeEventSubSubscription(subscription.id, 'authorization_revoked');
    await eventually(() => listener.revocations.length === 1, WAIT_MS);
    expect(listener.revocations[0]).toMatchObject({ reason: 'authorization_revoked', transport: 'websocket' });
    expect(await service.list({ transport: 'websocket' })).toEqual([]);
    // The grant is gone: the token store is told, as for a webhook revocation.
    await eventually(() => t.events.some((e) => e.name === 'twitch.token.revoked'), WAIT_MS);
    expect((await t.tokens.getTokenInfo(userId))?.status).toBe('reauth_required');
  });
});
