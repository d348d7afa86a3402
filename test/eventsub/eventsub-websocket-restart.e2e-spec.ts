import { EventSubService, EventSubSubscriptionStore, type TwitchAuthModuleOptions } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { EventSubListener, eventually, followEventFor } from './eventsub-support.js';

const WAIT_MS = 30_000;

/** Timers and sockets of this process, by kind (Jest's own are there too: compare before and after). */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

describe('EventSub WebSocket subscriptions across a restart', () => {
  let fake: FakeTwitch;
  const dir = tempDir('eventsub-ws-');
  let apps: TestApp[] = [];

  beforeAll(async () => {
    fake = await startFake({ helixRateLimit: false });
  });
  afterAll(async () => {
    for (const t of apps) await t.close().catch(() => undefined);
    await fake.close();
    dir.remove();
  });

  const options = (): Partial<TwitchAuthModuleOptions> => ({
    twitch: { idBaseUrl: fake.idBaseUrl, helixBaseUrl: fake.helixBaseUrl, eventSubWebSocketUrl: fake.eventSubWebSocketUrl },
    eventSub: { webSocket: { keepaliveTimeoutSeconds: 30 } },
  });
  const openSessions = () => fake.eventSubSessions().filter((s) => s.status !== 'closed');

  async function start(): Promise<TestApp> {
    const t = await createTestApp({
      fake,
      databaseUrl: `sqlite:${dir.path}/restart.sqlite`,
      providers: [EventSubListener],
      options: options(),
    });
    apps.push(t);
    return t;
  }

  it('creates the stored subscriptions again at boot, without the app asking, and closes every socket and timer on shutdown', async () => {
    const before = activeResources();
    const first = await start();
    const { userId } = fake.addUser();
    const issued = fake.issueToken({ userId, scopes: ['moderator:read:followers'] });
    await first.tokens.addUser(issued.accessToken, issued.refreshToken);
    const condition = { broadcaster_user_id: userId, moderator_user_id: userId };
    await first.app.get(EventSubService).subscribe('channel.follow', '2', condition, { transport: 'websocket', userId });
    expect(openSessions()).toHaveLength(1);
    expect(openSessions()[0].keepaliveTimeoutSeconds).toBe(30);

    await first.close();
    apps = [];
    await eventually(() => openSessions().length === 0, WAIT_MS);
    // Sockets, keepalive watchdogs and reconnect timers are all gone.
    await eventually(() => (activeResources().Timeout ?? 0) <= (before.Timeout ?? 0), WAIT_MS);

    const second = await start();
    await eventually(() => openSessions().length === 1 && openSessions()[0].userId === userId, WAIT_MS);
    const listener = second.app.get(EventSubListener);
    const { messageIds } = await fake.publishEventSub('channel.follow', '2', followEventFor(userId));
    expect(messageIds).toHaveLength(1);
    await eventually(() => listener.follows.length === 1, WAIT_MS);
    expect(listener.follows[0]).toMatchObject({ messageId: messageIds[0], transport: 'websocket' });

    // Unsubscribing removes it from storage: the next boot creates nothing.
    const [live] = await second.app.get(EventSubService).list({ transport: 'websocket' });
    expect(await second.app.get(EventSubService).unsubscribe(live.id)).toBe(true);
    expect(await second.app.get<EventSubSubscriptionStore>(EventSubSubscriptionStore).list()).toEqual([]);
  });
});
