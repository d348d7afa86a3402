import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ReauthorizationRequiredError,
  TokenService,
  TwitchAuthEvent,
  TwitchAuthModule,
  type EventSubMount,
  type TokenRevokedEvent,
} from '../../src/twitch-auth/index.js';
import { EventSubSender, type FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, fakeOptions, type TestApp } from '../support/app.js';
import { captureLogger } from '../support/log-capture.js';
import { caught, guardSecret, startFake } from '../support/secrets-guard.js';
import { EVENTSUB_SECRET, eventSubOptions, eventually, freePort, type Adapter } from './eventsub-support.js';

guardSecret(EVENTSUB_SECRET);

const ADAPTERS_AND_MOUNTS: [Adapter, EventSubMount][] = [
  ['express', 'controller'],
  ['fastify', 'controller'],
  ['express', 'direct'],
  ['fastify', 'direct'],
];

describe.each(ADAPTERS_AND_MOUNTS)("EventSub's word that a grant is gone, on %s, mount %s", (adapter, mount) => {
  let fake: FakeTwitch;
  let t: TestApp;
  let sender: EventSubSender;

  beforeAll(async () => {
    fake = await startFake();
    const port = await freePort();
    // No EventSub listener at all: the token must be marked whether or not the app listens.
    t = await createTestApp({ fake, adapter, options: { eventSub: eventSubOptions(port, { mount }) } });
    await t.app.listen(port, '127.0.0.1');
    sender = new EventSubSender({ callbackUrl: `http://127.0.0.1:${port}/eventsub/callback`, secret: EVENTSUB_SECRET });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });
  beforeEach(() => {
    t.events.length = 0;
  });

  /** A user of FakeTwitch whose token the app stores and has just served (so it sits in the read cache). */
  async function storedUser(): Promise<string> {
    const { userId } = fake.addUser();
    const issued = fake.issueToken({ userId, scopes: ['moderator:read:followers'] });
    await t.tokens.addUser(issued.accessToken, issued.refreshToken);
    expect(await t.tokens.getAccessToken(userId)).toBe(issued.accessToken);
    return userId;
  }

  const revokedEvents = () => t.events.filter((e) => e.name === 'twitch.token.revoked').map((e) => e.payload as TokenRevokedEvent);
  const eventCount = (name: string) => t.events.filter((e) => e.name === name).length;
  const status = async (userId: string) => (await t.tokens.getTokenInfo(userId))?.status;

  async function expectRevoked(userId: string): Promise<void> {
    await eventually(() => revokedEvents().length > 0, 20_000);
    expect(await status(userId)).toBe('reauth_required');
    expect(revokedEvents()).toEqual([{ userId, login: fake.getUser(userId)!.login, reason: expect.any(String) }]);
    // The read cache no longer serves the revoked token.
    expect(await caught(t.tokens.getAccessToken(userId))).toBeInstanceOf(ReauthorizationRequiredError);
    expect(await caught(t.tokens.getUserToken(userId))).toBeInstanceOf(ReauthorizationRequiredError);
  }

  it('authorization_revoked marks the user the subscription rests on (the moderator), once however many subscriptions go', async () => {
    const broadcaster = await storedUser();
    const moderator = await storedUser();
    const condition = { broadcaster_user_id: broadcaster, moderator_user_id: moderator };
    const answer = await sender.revocation('authorization_revoked', { type: 'channel.follow', version: '2', subscription: { condition } });
    expect(answer.status).toBe(204);
    await expectRevoked(moderator);
    expect(await status(broadcaster)).toBe('valid');

    // Every subscription of the user is revoked at once; the token is announced revoked only the first time.
    const again = await sender.revocation('authorization_revoked', { type: 'channel.ban', version: '1', subscription: { condition } });
    expect(again.status).toBe(204);
    await eventually(() => eventCount('twitch.eventsub.revocation') === 2, 20_000);
    expect(revokedEvents()).toHaveLength(1);
  });

  it('user_removed marks the user of the condition', async () => {
    const userId = await storedUser();
    const answer = await sender.revocation('user_removed', {
      type: 'stream.online',
      subscription: { condition: { broadcaster_user_id: userId } },
    });
    expect(answer.status).toBe(204);
    await expectRevoked(userId);
  });

  it('a revocation that leaves the grant alone (notification failures) changes no token', async () => {
    const userId = await storedUser();
    const answer = await sender.revocation('notification_failures_exceeded', {
      type: 'stream.online',
      subscription: { condition: { broadcaster_user_id: userId } },
    });
    expect(answer.status).toBe(204);
    await eventually(() => eventCount('twitch.eventsub.revocation') === 1, 20_000);
    expect(await status(userId)).toBe('valid');
    expect(revokedEvents()).toEqual([]);
    expect(await t.tokens.getAccessToken(userId)).toEqual(expect.any(String));
  });
});

/** The app's listeners: `twitch.token.revoked`, and EventSub revocations (to know one was handled); no notification. */
@Injectable()
class RevokedTokens {
  readonly seen: TokenRevokedEvent[] = [];
  subscriptionRevocations = 0;
  @OnEvent(TwitchAuthEvent.TokenRevoked)
  onRevoked(event: TokenRevokedEvent): void {
    this.seen.push(event);
  }
  @OnEvent(TwitchAuthEvent.EventSubRevocation)
  onSubscriptionRevoked(): void {
    this.subscriptionRevocations++;
  }
}

describe.each(ADAPTERS_AND_MOUNTS)('user.authorization.revoke with no EventSub listener, on %s, mount %s', (adapter, mount) => {
  let fake: FakeTwitch;
  let app: INestApplication;
  let sender: EventSubSender;

  beforeAll(async () => {
    fake = await startFake();
    const port = await freePort();
    // Built by hand: createTestApp listens to every event, and the point here is that nobody listens to notifications.
    @Module({
      imports: [EventEmitterModule.forRoot(), TwitchAuthModule.forRoot(fakeOptions(fake, { eventSub: eventSubOptions(port, { mount }) }))],
      providers: [RevokedTokens],
    })
    class RevocationModule {}
    const options = { logger: captureLogger, rawBody: true, abortOnError: false };
    app =
      adapter === 'fastify'
        ? await NestFactory.create<NestFastifyApplication>(RevocationModule, new FastifyAdapter(), options)
        : await NestFactory.create(RevocationModule, options);
    await app.listen(port, '127.0.0.1');
    sender = new EventSubSender({ callbackUrl: `http://127.0.0.1:${port}/eventsub/callback`, secret: EVENTSUB_SECRET });
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('marks the token of its user_id reauth_required, drops it from the cache, announces it once', async () => {
    const tokens = app.get(TokenService);
    const listener = app.get(RevokedTokens);
    const revoked = listener.seen;
    const user = fake.addUser();
    const issued = fake.issueToken({ userId: user.userId, scopes: [] });
    await tokens.addUser(issued.accessToken, issued.refreshToken);
    expect(await tokens.getAccessToken(user.userId)).toBe(issued.accessToken);

    const event = { client_id: fake.clientId, user_id: user.userId, user_login: user.login, user_name: user.login };
    const answer = await sender.notification('user.authorization.revoke', event, { version: '1', condition: { client_id: fake.clientId } });
    expect(answer.status).toBe(204);
    await eventually(() => revoked.length > 0, 20_000);
    expect(revoked).toEqual([{ userId: user.userId, login: user.login, reason: expect.any(String) }]);
    expect((await tokens.getTokenInfo(user.userId))?.status).toBe('reauth_required');
    expect(await caught(tokens.getAccessToken(user.userId))).toBeInstanceOf(ReauthorizationRequiredError);

    // Twitch resends it (a new message id), and revokes the user's subscriptions: nothing more is announced.
    const again = await sender.notification('user.authorization.revoke', event, { version: '1', condition: { client_id: fake.clientId } });
    expect(again.status).toBe(204);
    const subscription = { condition: { broadcaster_user_id: user.userId } };
    expect((await sender.revocation('authorization_revoked', { type: 'stream.online', subscription })).status).toBe(204);
    await eventually(() => listener.subscriptionRevocations === 1, 20_000);
    expect(revoked).toHaveLength(1);
  });
});
