import { EventSubService, EventSubWebSocketTransport, TwitchAuthDashboardModule } from '../../src/twitch-auth/index.js';
import { EventSubSender, type FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';
import { EVENTSUB_SECRET, eventSubOptions, freePort } from '../eventsub/eventsub-support.js';
import { getPage } from './dashboard-client.js';
import { ADMIN_HEADER, TestAdminGuard } from './dashboard-fixture.js';

guardSecret(EVENTSUB_SECRET);

/** A value only the notification's event carries: it must never reach the page. */
const EVENT_ONLY_TEXT = 'follower-private-text-7731';

describe('the dashboard’s EventSub section', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    fake = await startFake();
    const port = await freePort();
    t = await createTestApp({
      fake,
      options: {
        eventSub: eventSubOptions(port),
        twitch: { idBaseUrl: fake.idBaseUrl, helixBaseUrl: fake.helixBaseUrl, eventSubWebSocketUrl: fake.eventSubWebSocketUrl },
      },
      imports: [TwitchAuthDashboardModule.forRoot({ path: '/ops', guard: TestAdminGuard })],
    });
    await t.app.listen(port, '127.0.0.1');
    url = `http://127.0.0.1:${port}`;
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('counts subscriptions by transport and status, and lists notifications by type and message id only', async () => {
    const service = t.app.get(EventSubService);
    await service.subscribe('stream.online', '1', { broadcaster_user_id: '1001' });
    await service.subscribe('stream.offline', '1', { broadcaster_user_id: '1001' });
    const statuses = (await service.list()).map((s) => s.status);

    const sender = new EventSubSender({ callbackUrl: `${url}/eventsub/callback`, secret: EVENTSUB_SECRET });
    const sent = await sender.notification(
      'channel.follow',
      {
        user_id: '42',
        user_login: EVENT_ONLY_TEXT,
        user_name: EVENT_ONLY_TEXT,
        broadcaster_user_id: '1001',
        followed_at: new Date().toISOString(),
      },
      { version: '2', messageId: 'message-dashboard-1' },
    );
    expect(sent.status).toBe(204);

    const page = await getPage(`${url}/ops`, ADMIN_HEADER);
    expect(page.status).toBe(200);
    expect(page.html).toContain(`webhook, ${statuses[0]}: 2`);
    expect(page.html).toMatch(/channel\.follow v2 over webhook, [^<]*\(message\s+message-dashboard-1\)/);
    expect(page.html).not.toContain(EVENT_ONLY_TEXT);
    for (const secret of [...fake.issuedSecrets(), EVENTSUB_SECRET]) expect(page.html).not.toContain(secret);
  });

  it('says whose WebSocket sockets this instance holds', async () => {
    const { userId } = fake.addUser();
    const issued = fake.issueToken({ userId, scopes: ['moderator:read:followers'] });
    await t.tokens.addUser(issued.accessToken, issued.refreshToken);
    await t.app
      .get(EventSubService)
      .subscribe('channel.follow', '2', { broadcaster_user_id: userId, moderator_user_id: userId }, { transport: 'websocket', userId });
    await t.app.get(EventSubWebSocketTransport).runRound();

    const page = await getPage(`${url}/ops`, ADMIN_HEADER);
    expect(page.html).toContain('Held by this instance');
    expect(page.html).toMatch(/WebSocket sockets of 1 of 1 user\(s\) with stored subscriptions,\s+1 instance\(s\) sharing them/);
    for (const secret of fake.issuedSecrets()) expect(page.html).not.toContain(secret);
  });
});
