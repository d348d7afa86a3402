import { request } from 'node:http';
import {
  EVENTSUB_MAX_BODY_BYTES,
  EventSubService,
  signEventSubMessage,
  type EventSubMount,
  type EventSubSubscription,
} from '../../src/twitch-auth/index.js';
import { EventSubSender, type FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { capturedLogs } from '../support/log-capture.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';
import {
  EVENTSUB_SECRET,
  EventSubListener,
  FailingListeners,
  PREVIOUS_SECRET,
  createBareApp,
  eventSubOptions,
  eventually,
  followEvent,
  freePort,
  settle,
  type Adapter,
} from './eventsub-support.js';

guardSecret(EVENTSUB_SECRET);
guardSecret(PREVIOUS_SECRET);

const ADAPTERS_AND_MOUNTS: [Adapter, EventSubMount][] = [
  ['express', 'controller'],
  ['fastify', 'controller'],
  ['express', 'direct'],
  ['fastify', 'direct'],
];

describe.each(ADAPTERS_AND_MOUNTS)('EventSub webhooks on %s, mount %s', (adapter, mount) => {
  let fake: FakeTwitch;
  let t: TestApp;
  let url: string;
  let sender: EventSubSender;
  let listener: EventSubListener;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    fake = await startFake();
    const port = await freePort();
    t = await createTestApp({
      fake,
      adapter,
      options: { eventSub: eventSubOptions(port, { mount }) },
      providers: [EventSubListener, FailingListeners],
    });
    await t.app.listen(port, '127.0.0.1');
    url = `http://127.0.0.1:${port}`;
    sender = new EventSubSender({ callbackUrl: `${url}/eventsub/callback`, secret: EVENTSUB_SECRET });
    listener = t.app.get(EventSubListener);
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
    process.off('unhandledRejection', onUnhandled);
  });
  beforeEach(() => listener.clear());

  it('subscribes through Helix; FakeTwitch verifies the callback and the subscription becomes enabled', async () => {
    const service = t.app.get(EventSubService);
    const created = await service.subscribe('channel.follow', '2', { broadcaster_user_id: '44429626', moderator_user_id: '44429626' });
    expect(created).toMatchObject({ type: 'channel.follow', version: '2', status: 'webhook_callback_verification_pending' });
    expect(created.transport).toEqual({ method: 'webhook', callback: `${url}/eventsub/callback` });
    const listed = await service.list({ type: 'channel.follow' });
    expect(listed.map((s: EventSubSubscription) => [s.id, s.status])).toEqual([[created.id, 'enabled']]);
    const creates = fake.requests.filter((r) => r.path === '/helix/eventsub/subscriptions' && r.method === 'POST');
    expect(creates).toHaveLength(1);
    // A second subscribe gets Twitch's 409 and returns the existing subscription.
    const again = await service.subscribe('channel.follow', '2', { broadcaster_user_id: '44429626', moderator_user_id: '44429626' });
    expect(again.id).toBe(created.id);
  });

  it('dispatches a signed notification once, to a typed @OnEvent handler, even when sent three times', async () => {
    const messageId = 'b1a2c3d4-0000-4000-8000-000000000001';
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const result = await sender.notification('channel.follow', followEvent(), {
        version: '2',
        messageId,
        retry: i,
        condition: { broadcaster_user_id: '44429626' },
      });
      statuses.push(result.status);
    }
    expect(statuses).toEqual([204, 204, 204]);
    await eventually(() => listener.follows.length > 0);
    await settle();
    expect(listener.follows).toHaveLength(1);
    expect(listener.notifications).toHaveLength(1);
    const [follow] = listener.follows;
    expect(follow.messageId).toBe(messageId);
    expect(follow.subscription).toMatchObject({ type: 'channel.follow', version: '2', condition: { broadcaster_user_id: '44429626' } });
    expect(follow.event).toEqual({
      userId: '28408015',
      userLogin: 'test_from_user',
      userName: 'Test_From_User',
      broadcasterUserId: '44429626',
      broadcasterUserLogin: 'test_broadcaster',
      broadcasterUserName: 'Test_Broadcaster',
      followedAt: new Date('2024-05-01T12:00:00.123Z'),
    });
    expect(follow.rawEvent).toEqual(followEvent());
    expect(listener.notifications[0]).toBe(follow);
  });

  it('answers the challenge with 200 text/plain and exactly the challenge', async () => {
    const result = await sender.challenge({ challenge: 'pogchamp-kappa-360noscope-vohiyo' });
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(result.body).toBe('pogchamp-kappa-360noscope-vohiyo');
    // A resent challenge (same id) is answered again: the handshake must not be de-duplicated away.
    const resent = await sender.challenge({ challenge: 'second-try', messageId: result.messageId });
    expect(resent.body).toBe('second-try');
  });

  it('emits twitch.eventsub.revocation with the reason', async () => {
    const result = await sender.revocation('authorization_revoked', { type: 'channel.follow', version: '2' });
    expect(result.status).toBe(204);
    await eventually(() => listener.revocations.length === 1);
    expect(listener.revocations[0]).toMatchObject({
      reason: 'authorization_revoked',
      messageId: result.messageId,
      subscription: { type: 'channel.follow' },
    });
  });

  it('accepts a message signed with a previous secret', async () => {
    const result = await sender.notification(
      'stream.offline',
      { broadcaster_user_id: '1', broadcaster_user_login: 'a', broadcaster_user_name: 'A' },
      { secret: PREVIOUS_SECRET },
    );
    expect(result.status).toBe(204);
    await eventually(() => listener.notifications.length === 1);
    expect(listener.notifications[0].event).toEqual({ broadcasterUserId: '1', broadcasterUserLogin: 'a', broadcasterUserName: 'A' });
  });

  it('refuses every bad message with its status and dispatches none of them', async () => {
    const event = followEvent();
    const old = new Date(Date.now() - 11 * 60_000);
    const future = new Date(Date.now() + 2 * 60_000);
    const cases: [string, Promise<{ status: number; messageId: string }>, number][] = [
      ['missing id', sender.notification('channel.follow', event, { headers: { 'Twitch-Eventsub-Message-Id': null } }), 403],
      ['missing timestamp', sender.notification('channel.follow', event, { headers: { 'Twitch-Eventsub-Message-Timestamp': null } }), 403],
      ['missing signature', sender.notification('channel.follow', event, { headers: { 'Twitch-Eventsub-Message-Signature': null } }), 403],
      ['missing type', sender.notification('channel.follow', event, { headers: { 'Twitch-Eventsub-Message-Type': null } }), 403],
      ['wrong secret', sender.notification('channel.follow', event, { secret: 'not-the-secret-at-all' }), 403],
      ['sha1 signature', sender.notification('channel.follow', event, { signature: 'sha1=' + 'a'.repeat(40) }), 403],
      [
        'tampered body',
        sender.notification('channel.follow', event, {
          rawBody: JSON.stringify({ subscription: { type: 'channel.follow' }, event: { ...event, user_id: '1' } }),
        }),
        403,
      ],
      ['too old', sender.notification('channel.follow', event, { timestamp: old }), 403],
      ['too far in the future', sender.notification('channel.follow', event, { timestamp: future }), 403],
      ['unknown message type', sender.send('notification_v2', { subscription: { type: 'channel.follow' }, event }), 400],
      ['malformed JSON, validly signed', sender.send('notification', '{"subscription":{"type":"channel.follow"},"event":'), 400],
      ['JSON of the wrong shape, validly signed', sender.send('notification', '{"subscription":"channel.follow","event":{}}'), 400],
      ['JSON array, validly signed', sender.send('notification', '[1,2,3]'), 400],
      ['challenge without challenge', sender.send('webhook_callback_verification', { subscription: { type: 'x' } }), 400],
      [
        'over 1 MiB',
        sender.send('notification', { subscription: { type: 'channel.follow' }, event: { pad: 'x'.repeat(1024 * 1024) } }),
        413,
      ],
    ];
    const failures: string[] = [];
    const ids: string[] = [];
    for (const [name, pending, expected] of cases) {
      const result = await pending;
      ids.push(result.messageId);
      if (result.status !== expected) failures.push(`${name}: ${result.status} instead of ${expected}`);
    }
    expect(failures).toEqual([]);
    await settle(100);
    expect(listener.dispatchedIds().filter((id) => ids.includes(id))).toEqual([]);
    expect(listener.notifications).toHaveLength(0);
  });

  it('logs a throwing or rejecting listener; the answer stays 204, nothing is unhandled, and the app keeps serving', async () => {
    const failing = t.app.get(FailingListeners);
    const online = {
      id: '9',
      broadcaster_user_id: '1',
      broadcaster_user_login: 'a',
      broadcaster_user_name: 'A',
      type: 'live',
      started_at: '2024-05-01T12:00:00Z',
    };
    const result = await sender.notification('stream.online', online);
    expect(result.status).toBe(204);
    await eventually(() => failing.calls === 3);
    // The last listener rejects 5 ms after being called; give it time to settle.
    await settle(100);
    expect(unhandled).toEqual([]);
    expect(capturedLogs.some((line) => line.includes('sync listener failure'))).toBe(true);
    expect(capturedLogs.some((line) => line.includes('A listener of twitch.eventsub.stream.online failed: async listener failure'))).toBe(
      true,
    );
    expect((await sender.notification('channel.follow', followEvent())).status).toBe(204);
    await eventually(() => listener.follows.length === 1);
  });
});

describe.each<Adapter>(['express', 'fastify'])('EventSub on %s without rawBody: true', (adapter) => {
  let fake: FakeTwitch;

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());

  it('answers 500 saying how to enable the raw body, logs it once, and dispatches nothing', async () => {
    const { app, url } = await createBareApp({ fake, adapter, rawBody: false });
    try {
      const sender = new EventSubSender({ callbackUrl: `${url}/eventsub/callback`, secret: EVENTSUB_SECRET });
      const logsBefore = capturedLogs.length;
      const first = await sender.notification('channel.follow', followEvent());
      const second = await sender.notification('channel.follow', followEvent());
      expect([first.status, second.status]).toEqual([500, 500]);
      expect(JSON.parse(first.body).message).toContain('NestFactory.create(AppModule, { rawBody: true })');
      const logged = capturedLogs.slice(logsBefore).filter((line) => line.includes('rawBody: true'));
      expect(logged).toHaveLength(1);
      await settle();
      expect(app.get(EventSubListener).notifications).toHaveLength(0);
    } finally {
      await app.close();
    }
  });
});

describe.each(ADAPTERS_AND_MOUNTS)('EventSub on %s, mount %s, with body parser limits above 1 MiB', (adapter, mount) => {
  let fake: FakeTwitch;

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());

  it('still answers 413 for a message over 1 MiB, and accepts one just under', async () => {
    const { app, url } = await createBareApp({ fake, adapter, mount, rawBody: true, bodyLimitBytes: 8 * 1024 * 1024 });
    try {
      const sender = new EventSubSender({ callbackUrl: `${url}/eventsub/callback`, secret: EVENTSUB_SECRET });
      const subscription = { type: 'channel.follow' };
      const big = await sender.send('notification', { subscription, event: { pad: 'x'.repeat(2 * 1024 * 1024) } });
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body).message).toContain(String(EVENTSUB_MAX_BODY_BYTES));
      const chunked = await postChunked(
        `${url}/eventsub/callback`,
        JSON.stringify({ subscription, event: { pad: 'y'.repeat(2 * 1024 * 1024) } }),
      );
      expect(chunked).toBe(413);
      const underLimit = await sender.send('notification', { subscription, event: { pad: 'x'.repeat(1024 * 1024 - 100) } });
      expect(underLimit.status).toBe(204);
      await eventually(() => app.get(EventSubListener).notifications.length === 1);
    } finally {
      await app.close();
    }
  });
});

/** POSTs a validly signed notification with chunked encoding (no Content-Length), so only the raw length can refuse it. */
function postChunked(url: string, body: string): Promise<number> {
  const messageId = 'chunked-message';
  const timestamp = new Date().toISOString();
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'transfer-encoding': 'chunked',
        'twitch-eventsub-message-id': messageId,
        'twitch-eventsub-message-type': 'notification',
        'twitch-eventsub-message-timestamp': timestamp,
        'twitch-eventsub-message-signature': signEventSubMessage(EVENTSUB_SECRET, messageId, timestamp, body),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    const bytes = Buffer.from(body);
    for (let offset = 0; offset < bytes.length; offset += 64 * 1024) req.write(bytes.subarray(offset, offset + 64 * 1024));
    req.end();
  });
}
