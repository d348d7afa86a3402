import { EventSubService, TwitchAuthDashboardModule } from '../../src/twitch-auth/index.js';
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
      options: { eventSub: eventSubOptions(port) },
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
});
