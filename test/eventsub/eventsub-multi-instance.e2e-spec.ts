import { EventSubSender, type FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';
import { tempDir } from '../support/temp.js';
import { EVENTSUB_SECRET, EventSubListener, eventually, followEvent, settle } from './eventsub-support.js';

guardSecret(EVENTSUB_SECRET);

describe('EventSub de-duplication across two instances sharing one SQLite database', () => {
  const dir = tempDir();
  let fake: FakeTwitch;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    const databaseUrl = `sqlite:${dir.path}/shared.sqlite`;
    const config = { fake, databaseUrl, listen: true, options: { eventSub: { secret: EVENTSUB_SECRET } }, providers: [EventSubListener] };
    a = await createTestApp(config);
    b = await createTestApp(config);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await fake.close();
    dir.remove();
  });

  it('dispatches a message delivered to both instances exactly once', async () => {
    const toA = new EventSubSender({ callbackUrl: `${a.url}/eventsub/callback`, secret: EVENTSUB_SECRET });
    const toB = new EventSubSender({ callbackUrl: `${b.url}/eventsub/callback`, secret: EVENTSUB_SECRET });
    const messages = Array.from({ length: 20 }, (_, i) => ({ messageId: `shared-message-${i}`, timestamp: new Date() }));
    const statuses: number[] = [];
    // Half race: both deliveries in flight at once.
    const raced = await Promise.all(
      messages
        .slice(0, 10)
        .flatMap((m, i) => [
          toA.notification('channel.follow', followEvent(String(i)), m),
          toB.notification('channel.follow', followEvent(String(i)), m),
        ]),
    );
    statuses.push(...raced.map((r) => r.status));
    // Half in turn, alternating which instance sees the message first.
    for (const [i, m] of messages.slice(10).entries()) {
      const [first, second] = i % 2 === 0 ? [toA, toB] : [toB, toA];
      statuses.push((await first.notification('channel.follow', followEvent(String(i)), m)).status);
      statuses.push((await second.notification('channel.follow', followEvent(String(i)), m)).status);
    }
    expect(statuses.every((status) => status === 204)).toBe(true);

    const listeners = [a.app.get(EventSubListener), b.app.get(EventSubListener)];
    const dispatched = () => listeners.flatMap((l) => l.follows.map((f) => f.messageId));
    await eventually(() => dispatched().length >= messages.length);
    await settle(100);
    expect(dispatched().sort()).toEqual(messages.map((m) => m.messageId).sort());
    // Both instances took part: neither is a silent bystander.
    expect(listeners.every((l) => l.follows.length > 0)).toBe(true);
  });
});
