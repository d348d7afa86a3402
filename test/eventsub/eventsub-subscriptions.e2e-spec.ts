import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import {
  TwitchAuthModule,
  TwitchAuthConfigError,
  EventSubNotConfiguredError,
  EventSubPublicUrlMissingError,
  EventSubService,
  InvalidAccessTokenError,
  TwitchServerError,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, fakeOptions, type TestApp } from '../support/app.js';
import { captureLogger } from '../support/log-capture.js';
import { caught, guardSecret, startFake } from '../support/secrets-guard.js';
import { EVENTSUB_SECRET, eventSubOptions, freePort } from './eventsub-support.js';

guardSecret(EVENTSUB_SECRET);

const SUBSCRIPTIONS = '/helix/eventsub/subscriptions';

describe('EventSubService against FakeTwitch Helix', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let service: EventSubService;
  let callback: string;

  beforeAll(async () => {
    fake = await startFake();
    const port = await freePort();
    t = await createTestApp({ fake, options: { eventSub: eventSubOptions(port) } });
    await t.app.listen(port, '127.0.0.1');
    callback = `http://127.0.0.1:${port}/eventsub/callback`;
    service = t.app.get(EventSubService);
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(async () => {
    for (const subscription of await service.list()) await service.unsubscribe(subscription.id);
    fake.clearRequests();
    fake.clearFailures();
  });

  it('ensure creates what is missing, leaves live ones alone, and is idempotent', async () => {
    const specs = [
      { type: 'stream.online', version: '1', condition: { broadcaster_user_id: '1001' } },
      { type: 'stream.offline', version: '1', condition: { broadcaster_user_id: '1001' } },
    ];
    const first = await service.ensure(specs);
    expect(first.created.map((s) => s.type)).toEqual(['stream.online', 'stream.offline']);
    expect(first.existing).toEqual([]);
    expect((await service.list()).map((s) => s.status)).toEqual(['enabled', 'enabled']);

    fake.clearRequests();
    const second = await service.ensure(specs);
    expect(second.created).toEqual([]);
    expect(second.existing.map((s) => s.id).sort()).toEqual(first.created.map((s) => s.id).sort());
    expect(fake.countRequests({ method: 'POST', path: SUBSCRIPTIONS })).toBe(0);
  });

  it('ensure replaces a subscription whose callback verification failed', async () => {
    // Subscribed with another secret: the app refuses FakeTwitch's challenge, so verification fails.
    const appToken = (await t.tokens.getAppToken()).accessToken;
    const response = await fetch(`${fake.helixBaseUrl}/eventsub/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${appToken}`, 'client-id': fake.clientId, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'channel.raid',
        version: '1',
        condition: { to_broadcaster_user_id: '1001' },
        transport: { method: 'webhook', callback, secret: 'some-other-secret-xyz' },
      }),
    });
    expect(response.status).toBe(202);
    const [failed] = await service.list({ type: 'channel.raid' });
    expect(failed.status).toBe('webhook_callback_verification_failed');

    const result = await service.ensure([
      { type: 'channel.raid', version: '1', condition: { to_broadcaster_user_id: '1001', from_broadcaster_user_id: '' } },
    ]);
    expect(result.removed.map((s) => s.id)).toEqual([failed.id]);
    expect(result.created).toHaveLength(1);
    expect((await service.list({ type: 'channel.raid' })).map((s) => s.status)).toEqual(['enabled']);
  });

  it('list follows the after cursor across pages and applies filters', async () => {
    for (let i = 0; i < 105; i++)
      await service.subscribe('channel.follow', '2', { broadcaster_user_id: String(5000 + i), moderator_user_id: String(5000 + i) });
    await service.subscribe('channel.cheer', '1', { broadcaster_user_id: '5003' });
    fake.clearRequests();
    const all = await service.list();
    expect(all).toHaveLength(106);
    expect(new Set(all.map((s) => s.id)).size).toBe(106);
    const gets = fake.requests.filter((r) => r.method === 'GET' && r.path === SUBSCRIPTIONS);
    expect(gets.map((r) => r.query.after !== undefined)).toEqual([false, true]);
    expect((await service.list({ type: 'channel.cheer' })).map((s) => s.type)).toEqual(['channel.cheer']);
    expect((await service.list({ userId: '5003' })).map((s) => s.type).sort()).toEqual(['channel.cheer', 'channel.follow']);
    expect(await service.list({ status: 'webhook_callback_verification_failed' })).toEqual([]);
  });

  it('unsubscribe deletes (204) and says false for an unknown id', async () => {
    const created = await service.subscribe('stream.online', '1', { broadcaster_user_id: '77' });
    expect(await service.unsubscribe(created.id)).toBe(true);
    expect(await service.unsubscribe(created.id)).toBe(false);
    expect(await service.list()).toEqual([]);
  });

  it('replaces a rejected app token once and retries the call', async () => {
    const before = (await t.tokens.getAppToken()).accessToken;
    fake.revokeToken(before);
    fake.clearRequests();
    await service.list();
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'client_credentials' })).toBe(1);
    expect(fake.countRequests({ method: 'GET', path: SUBSCRIPTIONS, status: 401 })).toBe(1);
    expect(fake.countRequests({ method: 'GET', path: SUBSCRIPTIONS, status: 200 })).toBe(1);
    const after = (await t.tokens.getAppToken()).accessToken;
    expect(after).not.toBe(before);
    expect(fake.tokenInfo(after)?.kind).toBe('app');
  });

  it('gives up after one retry when Helix keeps answering 401', async () => {
    fake.failNext('helix', 2, { status: 401, message: 'Invalid OAuth token' });
    const unauthorized = await caught(service.list());
    expect(unauthorized).toBeInstanceOf(InvalidAccessTokenError);
  });

  it('retries 5xx, 429 (after Ratelimit-Reset) and lost connections, then answers as if nothing happened', async () => {
    await service.subscribe('stream.online', '1', { broadcaster_user_id: '77' });
    fake.clearRequests();
    fake.failNext('helix', 1, 500);
    fake.failNext('helix', 1, 'reset');
    const listed = await service.list();
    expect(listed.map((s) => s.type)).toEqual(['stream.online']);
    expect(fake.countRequests({ path: SUBSCRIPTIONS })).toBe(3);

    fake.failNext('helix', 1, 429);
    const started = Date.now();
    expect(await service.list()).toHaveLength(1);
    // FakeTwitch's Ratelimit-Reset is at least one whole second ahead; the retry waited for it, not the 250 ms backoff.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(fake.countRequests({ path: SUBSCRIPTIONS })).toBe(5);
  });

  it('a create whose answer was lost is retried and finds the subscription it made (409), never a duplicate', async () => {
    fake.failNext('helix', 1, 'reset', { afterHandling: true });
    const created = await service.subscribe('channel.follow', '2', { broadcaster_user_id: '79', moderator_user_id: '79' });
    expect(created).toMatchObject({ type: 'channel.follow', condition: { broadcaster_user_id: '79' } });
    const all = await service.list({ type: 'channel.follow' });
    expect(all.map((s) => s.id)).toEqual([created.id]);
    expect(fake.countRequests({ path: SUBSCRIPTIONS, method: 'POST' })).toBe(2);
  });

  it('surfaces a 5xx that lasts through every try as transient, after exactly three requests', async () => {
    fake.failNext('helix', 3, 500);
    const server = await caught(service.subscribe('stream.online', '1', { broadcaster_user_id: '78' }));
    expect(server).toBeInstanceOf(TwitchServerError);
    expect((server as TwitchServerError).transient).toBe(true);
    expect(fake.countRequests({ path: SUBSCRIPTIONS, method: 'POST' })).toBe(3);
  });
});

describe('EventSubService configuration errors', () => {
  let fake: FakeTwitch;

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());

  it('says publicUrl is missing before calling Twitch, while list still works', async () => {
    const t = await createTestApp({ fake, options: { eventSub: { secret: EVENTSUB_SECRET } } });
    try {
      const service = t.app.get(EventSubService);
      const error = await caught(service.subscribe('stream.online', '1', { broadcaster_user_id: '1' }));
      expect(error).toBeInstanceOf(EventSubPublicUrlMissingError);
      expect(error.message).toContain('eventSub.publicUrl');
      expect(
        await caught(service.ensure([{ type: 'stream.online', version: '1', condition: { broadcaster_user_id: '1' } }])),
      ).toBeInstanceOf(EventSubPublicUrlMissingError);
      expect(fake.countRequests({ method: 'POST', path: SUBSCRIPTIONS })).toBe(0);
      expect(await service.list()).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('says EventSub is not configured when eventSub options are absent', async () => {
    const t = await createTestApp({ fake });
    try {
      const error = await caught(t.app.get(EventSubService).subscribe('stream.online', '1', { broadcaster_user_id: '1' }));
      expect(error).toBeInstanceOf(EventSubNotConfiguredError);
      expect(error.message).toContain('eventSub: { secret');
    } finally {
      await t.close();
    }
  });

  it('forRootAsync: subscriptions point at the mounted routes.eventSub path', async () => {
    const port = await freePort();
    @Module({
      imports: [
        EventEmitterModule.forRoot(),
        TwitchAuthModule.forRootAsync({
          routes: { eventSub: { path: '/hooks/twitch' } },
          useFactory: () => fakeOptions(fake, { eventSub: eventSubOptions(port) }),
        }),
      ],
    })
    class AsyncModule {}
    const app = await NestFactory.create(AsyncModule, { logger: captureLogger, rawBody: true, abortOnError: false });
    await app.listen(port, '127.0.0.1');
    try {
      const created = await app.get(EventSubService).subscribe('stream.online', '1', { broadcaster_user_id: '9' });
      expect(created.transport.callback).toBe(`http://127.0.0.1:${port}/hooks/twitch`);
      expect((await app.get(EventSubService).list()).map((s) => s.status)).toEqual(['enabled']);
    } finally {
      await app.close();
    }
  });

  it.each([
    ['mount', { mount: 'direct' as const }],
    ['path', { path: '/hooks/twitch' }],
  ])('forRootAsync: an eventSub.%s from the factory that differs from routes.eventSub stops the app, naming both', async (key, extra) => {
    const factory = () => fakeOptions(fake, { eventSub: { secret: EVENTSUB_SECRET, ...extra } });
    @Module({ imports: [TwitchAuthModule.forRootAsync({ routes: { eventSub: {} }, useFactory: factory })] })
    class MismatchedModule {}
    const error = await caught(NestFactory.create(MismatchedModule, { logger: captureLogger, rawBody: true, abortOnError: false }));
    expect(error).toBeInstanceOf(TwitchAuthConfigError);
    expect(error.message).toContain(`set it in routes.eventSub.${key}`);
  });

  it('forRootAsync: eventSub options from the factory with no routes.eventSub stop the app, saying to set routes.eventSub', async () => {
    const factory = () => fakeOptions(fake, { eventSub: { secret: EVENTSUB_SECRET, mount: 'direct' } });
    @Module({ imports: [TwitchAuthModule.forRootAsync({ useFactory: factory })] })
    class UnmountedModule {}
    const error = await caught(NestFactory.create(UnmountedModule, { logger: captureLogger, rawBody: true, abortOnError: false }));
    expect(error).toBeInstanceOf(TwitchAuthConfigError);
    expect(error.message).toContain('set routes.eventSub in forRootAsync');
    expect(error.message).toContain(`routes: { eventSub: { path: "/eventsub/callback", mount: "direct" } }`);
  });

  it('forRootAsync: routes.eventSub false mounts no receiver on purpose, and subscriptions can still be managed', async () => {
    const port = await freePort();
    @Module({
      imports: [
        EventEmitterModule.forRoot(),
        TwitchAuthModule.forRootAsync({
          routes: { eventSub: false },
          useFactory: () => fakeOptions(fake, { eventSub: eventSubOptions(port) }),
        }),
      ],
    })
    class ManagerOnlyModule {}
    const app = await NestFactory.create(ManagerOnlyModule, { logger: captureLogger, rawBody: true, abortOnError: false });
    await app.listen(port, '127.0.0.1');
    try {
      const created = await app.get(EventSubService).subscribe('stream.online', '1', { broadcaster_user_id: '9' });
      expect(created.transport.callback).toBe(`http://127.0.0.1:${port}/eventsub/callback`);
      expect((await fetch(`http://127.0.0.1:${port}/eventsub/callback`, { method: 'POST' })).status).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('forRootAsync: a mounted callback without eventSub options fails at startup, saying what to set', async () => {
    @Module({ imports: [TwitchAuthModule.forRootAsync({ routes: { eventSub: {} }, useFactory: () => fakeOptions(fake) })] })
    class MisconfiguredModule {}
    const app = await NestFactory.create(MisconfiguredModule, { logger: captureLogger, rawBody: true, abortOnError: false });
    const error = await caught(app.init());
    expect(error).toBeInstanceOf(EventSubNotConfiguredError);
    expect(error.message).toContain('eventSub: { secret');
    await app.close().catch(() => undefined);
  });
});
