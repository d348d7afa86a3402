import {
  TwitchAuthHealthIndicator,
  EVENTSUB_WEBSOCKET_PENDING_STATUS,
  EventSubService,
  EventSubSocketLeaseStore,
  EventSubWebSocketTransport,
  type TwitchAuthModuleOptions,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { EventSubListener, eventually, settle, followEventFor } from './eventsub-support.js';

/** Generous: Nest apps and SQLite on a loaded two-core machine. */
const WAIT_MS = 60_000;
const LEASE_SECONDS = 3;
const RENEW_SECONDS = 1;

describe('EventSub WebSocket sockets of a user held by one of two instances sharing one SQLite database', () => {
  let fake: FakeTwitch;
  const dir = tempDir('eventsub-ws-leases-');
  let apps: TestApp[] = [];
  let database = 0;

  beforeAll(async () => {
    fake = await startFake({ helixRateLimit: false });
  });
  afterEach(async () => {
    for (const t of apps) await t.close().catch(() => undefined);
    apps = [];
  });
  afterAll(async () => {
    await fake.close();
    dir.remove();
  });

  const options = (): Partial<TwitchAuthModuleOptions> => ({
    twitch: {
      idBaseUrl: fake.idBaseUrl,
      helixBaseUrl: fake.helixBaseUrl,
      eventSubWebSocketUrl: fake.eventSubWebSocketUrl,
      timeoutMs: 2_000,
    },
    eventSub: { webSocket: { keepaliveTimeoutSeconds: 30, leaseSeconds: LEASE_SECONDS, renewSeconds: RENEW_SECONDS } },
  });
  /** FakeTwitch's open sockets carrying the user's subscriptions. */
  const openSocketsOf = (userId: string) => fake.eventSubSessions().filter((s) => s.status !== 'closed' && s.userId === userId);
  const enabledOf = (userId: string) =>
    fake
      .eventSubSubscriptions()
      .filter((s) => s.status === 'enabled' && s.transport.method === 'websocket' && s.condition.broadcaster_user_id === userId);

  async function start(
    databaseUrl: string,
  ): Promise<TestApp & { eventSub: EventSubService; transport: EventSubWebSocketTransport; listener: EventSubListener }> {
    const t = await createTestApp({ fake, databaseUrl, providers: [EventSubListener], options: options() });
    apps.push(t);
    return {
      ...t,
      eventSub: t.app.get(EventSubService),
      transport: t.app.get(EventSubWebSocketTransport),
      listener: t.app.get(EventSubListener),
    };
  }

  async function addUser(t: TestApp): Promise<string> {
    const { userId } = fake.addUser();
    const issued = fake.issueToken({ userId, scopes: ['moderator:read:followers'] });
    await t.tokens.addUser(issued.accessToken, issued.refreshToken);
    return userId;
  }

  it(
    'opens the sockets on one instance only, lets the other subscribe and unsubscribe through it, and hands over on a graceful stop',
    async () => {
      const databaseUrl = `sqlite:${dir.path}/shared-${++database}.sqlite`;
      const a = await start(databaseUrl);
      const userId = await addUser(a);
      const follow = { broadcaster_user_id: userId, moderator_user_id: userId };
      const followSub = await a.eventSub.subscribe('channel.follow', '2', follow, { transport: 'websocket', userId });
      expect(followSub.status).toBe('enabled');

      // B boots with the subscription stored; its rounds see the lease A holds: B opens nothing.
      const b = await start(databaseUrl);
      await b.transport.runRound();
      await b.transport.runRound();
      expect(b.transport.sessionIds(userId)).toEqual([]);
      expect(openSocketsOf(userId)).toHaveLength(1);
      expect(a.transport.status().usersHeld).toEqual([userId]);
      expect(b.transport.status().usersHeld).toEqual([]);
      // Each instance's health says what it holds.
      await a.transport.runRound();
      expect((await a.app.get(TwitchAuthHealthIndicator).isHealthy())['twitch-auth'].webSocket).toMatchObject({
        usersHeld: 1,
        users: 1,
        instances: 2,
        lastError: null,
      });
      expect((await b.app.get(TwitchAuthHealthIndicator).isHealthy())['twitch-auth'].webSocket).toMatchObject({ usersHeld: 0, users: 1 });

      // Subscribing on B stores the wish; A, holding the user's sockets, creates it on its socket.
      const online = await b.eventSub.subscribe('stream.online', '1', { broadcaster_user_id: userId }, { transport: 'websocket', userId });
      expect(online.status).toBe(EVENTSUB_WEBSOCKET_PENDING_STATUS);
      await eventually(() => a.transport.list(userId).length === 2, WAIT_MS);
      expect(b.transport.list(userId)).toEqual([]);
      expect(openSocketsOf(userId)).toHaveLength(1);
      expect(enabledOf(userId)).toHaveLength(2);

      // A notification reaches the app once, through A.
      const first = await fake.publishEventSub('channel.follow', '2', followEventFor(userId));
      expect(first.messageIds).toHaveLength(1);
      await eventually(() => a.listener.follows.length === 1, WAIT_MS);
      await settle(200);
      expect([...a.listener.follows, ...b.listener.follows].map((f) => f.messageId)).toEqual(first.messageIds);

      // Unsubscribing on B (with the id it was given) makes A delete it at Twitch.
      expect(await b.eventSub.unsubscribe(online.id)).toBe(true);
      await eventually(() => a.transport.list(userId).length === 1, WAIT_MS);
      await eventually(() => enabledOf(userId).length === 1, WAIT_MS);

      // A stops gracefully: B takes the user over at its next round and creates the stored subscription.
      const stoppedAt = Date.now();
      const ownerA = a.transport.status().owner;
      await a.close();
      apps = apps.filter((t) => t !== a);
      // A freed its lease as it stopped, rather than leaving B to wait for it to lapse.
      expect((await b.app.get<EventSubSocketLeaseStore>(EventSubSocketLeaseStore).list()).filter((l) => l.owner === ownerA)).toEqual([]);
      await eventually(() => b.transport.list(userId).length === 1 && enabledOf(userId).length === 1, WAIT_MS);
      const takeoverMs = Date.now() - stoppedAt;
      console.info(
        `graceful hand-over of a user's sockets: ${takeoverMs} ms (renewSeconds ${RENEW_SECONDS}, leaseSeconds ${LEASE_SECONDS})`,
      );
      expect(openSocketsOf(userId)).toHaveLength(1);
      expect(b.transport.status().usersHeld).toEqual([userId]);
      const second = await fake.publishEventSub('channel.follow', '2', followEventFor(userId));
      expect(second.messageIds).toHaveLength(1);
      await eventually(() => b.listener.follows.length === 1, WAIT_MS);
      expect(b.listener.follows[0]!.messageId).toBe(second.messageIds[0]);
    },
    WAIT_MS * 3,
  );

  it(
    'keeps the user of a subscribe that outlasts a round (its row is stored only once Twitch answered)',
    async () => {
      const a = await start(`sqlite:${dir.path}/shared-${++database}.sqlite`);
      const userId = await addUser(a);
      // Twitch does not answer the first try: the subscribe takes one request timeout (2 s), two rounds.
      fake.failNext('helix', 1, 'timeout');
      const follow = { broadcaster_user_id: userId, moderator_user_id: userId };
      const subscription = await a.eventSub.subscribe('channel.follow', '2', follow, { transport: 'websocket', userId });
      expect(fake.eventSubSubscriptions().find((s) => s.id === subscription.id)?.status).toBe('enabled');
      expect(openSocketsOf(userId)).toHaveLength(1);
      expect(a.transport.status().usersHeld).toEqual([userId]);
    },
    WAIT_MS,
  );

  it(
    'spreads users over the instances: one started later takes its share from the first',
    async () => {
      const databaseUrl = `sqlite:${dir.path}/shared-${++database}.sqlite`;
      const a = await start(databaseUrl);
      const users: string[] = [];
      for (let i = 0; i < 4; i++) {
        const userId = await addUser(a);
        users.push(userId);
        const follow = { broadcaster_user_id: userId, moderator_user_id: userId };
        await a.eventSub.subscribe('channel.follow', '2', follow, { transport: 'websocket', userId });
      }
      expect(a.transport.status().usersHeld).toHaveLength(4);

      const b = await start(databaseUrl);
      const held = () => [a.transport.status().usersHeld, b.transport.status().usersHeld];
      await eventually(() => held().every((ids) => ids.length === 2), WAIT_MS);
      await eventually(() => users.every((userId) => openSocketsOf(userId).length === 1 && enabledOf(userId).length === 1), WAIT_MS);
      expect([...held()[0]!, ...held()[1]!].sort()).toEqual([...users].sort());
      for (const userId of users) {
        const holders = [a, b].filter((t) => t.transport.sessionIds(userId).length > 0);
        expect(holders).toHaveLength(1);
      }
    },
    WAIT_MS * 3,
  );
});
