import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  TwitchAuthEvent,
  TwitchAuthModule,
  type ChannelFollowEvent,
  type EventSubMount,
  type EventSubNotification,
  type EventSubRevocation,
  type TwitchAuthModuleOptions,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { fakeOptions } from '../support/app.js';
import { captureLogger } from '../support/log-capture.js';
import { freePort } from '../support/net.js';

export { freePort } from '../support/net.js';

/** The webhook secret every EventSub test app uses. */
export const EVENTSUB_SECRET = 'eventsub-test-secret-0123456789';
/** A secret still accepted during a rotation. */
export const PREVIOUS_SECRET = 'eventsub-previous-secret-42';

export type Adapter = 'express' | 'fastify';

/** Collects what a user's provider would receive through `@OnEvent`. */
@Injectable()
export class EventSubListener {
  readonly follows: EventSubNotification<ChannelFollowEvent>[] = [];
  readonly notifications: EventSubNotification[] = [];
  readonly revocations: EventSubRevocation[] = [];

  @OnEvent('twitch.eventsub.channel.follow')
  onFollow(notification: EventSubNotification<ChannelFollowEvent>): void {
    this.follows.push(notification);
  }

  @OnEvent(TwitchAuthEvent.EventSubNotification)
  onNotification(notification: EventSubNotification): void {
    this.notifications.push(notification);
  }

  @OnEvent(TwitchAuthEvent.EventSubRevocation)
  onRevocation(revocation: EventSubRevocation): void {
    this.revocations.push(revocation);
  }

  /** Every message id dispatched, from any event. */
  dispatchedIds(): string[] {
    return [...this.notifications.map((n) => n.messageId), ...this.revocations.map((r) => r.messageId)];
  }

  clear(): void {
    this.follows.length = 0;
    this.notifications.length = 0;
    this.revocations.length = 0;
  }
}

/** Handlers that fail in every way a listener can: a sync throw and rejected promises. */
@Injectable()
export class FailingListeners {
  calls = 0;

  @OnEvent('twitch.eventsub.stream.online')
  throwsSynchronously(): void {
    this.calls++;
    throw new Error('sync listener failure');
  }

  @OnEvent('twitch.eventsub.stream.online', { suppressErrors: false })
  async rejects(): Promise<void> {
    this.calls++;
    throw new Error('async listener failure');
  }

  @OnEvent('twitch.eventsub.stream.online', { async: true, promisify: true, suppressErrors: false })
  async rejectsLater(): Promise<void> {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    throw new Error('late async listener failure');
  }
}

/** `eventSub` options for an app that will listen on `port`. */
export function eventSubOptions(
  port: number,
  extra: Partial<NonNullable<TwitchAuthModuleOptions['eventSub']>> = {},
): TwitchAuthModuleOptions['eventSub'] {
  return { secret: EVENTSUB_SECRET, previousSecrets: [PREVIOUS_SECRET], publicUrl: `http://127.0.0.1:${port}`, ...extra };
}

/**
 * An app built by hand, for what `createTestApp` cannot do: leave `rawBody`
 * off, or raise the body parsers' limit above EventSub's own.
 */
export async function createBareApp(config: {
  fake: FakeTwitch;
  adapter: Adapter;
  mount?: EventSubMount;
  rawBody: boolean;
  bodyLimitBytes?: number;
}): Promise<{ app: INestApplication; url: string }> {
  const port = await freePort();
  @Module({
    imports: [
      EventEmitterModule.forRoot(),
      TwitchAuthModule.forRoot(fakeOptions(config.fake, { eventSub: eventSubOptions(port, { mount: config.mount ?? 'controller' }) })),
    ],
    providers: [EventSubListener],
  })
  class BareModule {}
  let app: INestApplication;
  if (config.adapter === 'fastify') {
    const adapter = new FastifyAdapter(config.bodyLimitBytes ? { bodyLimit: config.bodyLimitBytes } : {});
    app = await NestFactory.create<NestFastifyApplication>(BareModule, adapter, {
      logger: captureLogger,
      rawBody: config.rawBody,
      abortOnError: false,
    });
  } else {
    const express = await NestFactory.create<NestExpressApplication>(BareModule, {
      logger: captureLogger,
      rawBody: config.rawBody,
      abortOnError: false,
    });
    if (config.bodyLimitBytes) express.useBodyParser('json', { limit: config.bodyLimitBytes });
    app = express;
  }
  await app.listen(port, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${port}` };
}

/** Resolves once `condition` holds, polling; rejects after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets queued dispatches (setImmediate after the response) run. */
export function settle(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A `channel.follow` v2 event as Twitch sends it. */
export function followEvent(userId = '28408015'): Record<string, unknown> {
  return {
    user_id: userId,
    user_login: 'test_from_user',
    user_name: 'Test_From_User',
    broadcaster_user_id: '44429626',
    broadcaster_user_login: 'test_broadcaster',
    broadcaster_user_name: 'Test_Broadcaster',
    followed_at: '2024-05-01T12:00:00.123456789Z',
  };
}

/** A `channel.follow` v2 event for `broadcaster`, followed now by `follower` (default: user 901). */
export function followEventFor(
  broadcaster: string,
  follower: { id: string; login: string; name: string } = { id: '901', login: 'follower', name: 'Follower' },
): Record<string, unknown> {
  return {
    user_id: follower.id,
    user_login: follower.login,
    user_name: follower.name,
    broadcaster_user_id: broadcaster,
    broadcaster_user_login: 'caster',
    broadcaster_user_name: 'Caster',
    followed_at: new Date().toISOString(),
  };
}
