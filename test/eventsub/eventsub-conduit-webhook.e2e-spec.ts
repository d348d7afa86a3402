import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import {
  EventSubConduitShards,
  TwitchAuthConfigError,
  TwitchAuthModule,
  type EventSubNotification,
  type TwitchAuthModuleOptions,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { fakeOptions } from '../support/app.js';
import { captureLogger } from '../support/log-capture.js';
import { freePort } from '../support/net.js';
import { waitFor } from '../support/refresh-scenario.js';
import { startFake } from '../support/secrets-guard.js';

const WAIT_MS = 30_000;
const SECRET = 'conduit-webhook-secret';
const FOLLOW = {
  user_id: '1',
  user_login: 'a',
  user_name: 'A',
  broadcaster_user_id: '42',
  broadcaster_user_login: 'b',
  broadcaster_user_name: 'B',
  followed_at: '2026-12-02T00:00:00Z',
};

describe('EventSub conduit with webhook shards', () => {
  let fake: FakeTwitch;
  let app: INestApplication | null = null;

  beforeEach(async () => {
    fake = await startFake();
  });
  afterEach(async () => {
    await app?.close();
    app = null;
    await fake.close();
  });

  it('refuses webhook shards without a public URL, naming the fix', () => {
    expect(() => TwitchAuthModule.forRoot({ ...fakeOptions(fake), eventSub: { conduit: { transport: 'webhook' } } })).toThrow(
      TwitchAuthConfigError,
    );
    expect(() => TwitchAuthModule.forRoot({ ...fakeOptions(fake), eventSub: { conduit: { transport: 'webhook' } } })).toThrow(
      /set eventSub\.secret and eventSub\.publicUrl/,
    );
  });

  it("points the shards it holds at the app's callback, which verifies and dispatches their notifications", async () => {
    const port = await freePort();
    const options: TwitchAuthModuleOptions = {
      ...fakeOptions(fake),
      eventSub: {
        secret: SECRET,
        publicUrl: `http://127.0.0.1:${port}`,
        conduit: { transport: 'webhook', shardCount: 2, leaseSeconds: 3, renewSeconds: 0.5 },
      },
    };
    @Module({ imports: [EventEmitterModule.forRoot(), TwitchAuthModule.forRoot(options)] })
    class WebhookConduitModule {}
    app = await NestFactory.create(WebhookConduitModule, { logger: captureLogger, rawBody: true, abortOnError: false });
    const seen: EventSubNotification[] = [];
    app.get(EventEmitter2).on('twitch.eventsub.notification', (payload: EventSubNotification) => void seen.push(payload));
    await app.listen(port, '127.0.0.1');

    const shards = app.get(EventSubConduitShards);
    await waitFor(
      'both shards associated with the callback',
      () => {
        const status = shards.status();
        return status.shardsHeld.length === 2 && status.shardsDisabled.length === 0;
      },
      WAIT_MS,
    );
    expect(fake.conduits()[0]!.shards.map((shard) => [shard.status, shard.method, shard.callback])).toEqual([
      ['enabled', 'webhook', `http://127.0.0.1:${port}/eventsub/callback`],
      ['enabled', 'webhook', `http://127.0.0.1:${port}/eventsub/callback`],
    ]);
    const appToken = fake.issueAppToken().accessToken;
    const created = await fetch(`${fake.helixBaseUrl}/eventsub/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${appToken}`, 'client-id': fake.clientId, 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'channel.follow',
        version: '2',
        condition: { broadcaster_user_id: '42', moderator_user_id: '42' },
        transport: { method: 'conduit', conduit_id: fake.conduits()[0]!.conduitId },
      }),
    });
    expect(created.status).toBe(202);
    const published: string[] = [];
    for (let i = 0; i < 4; i++) published.push(...(await fake.publishEventSub('channel.follow', '2', FOLLOW)).messageIds);
    await waitFor('four notifications dispatched', () => seen.length >= 4, WAIT_MS);
    expect(seen.map((n) => n.messageId).sort()).toEqual(published.sort());
  });
});
