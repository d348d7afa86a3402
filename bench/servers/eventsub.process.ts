/**
 * One B3 contender: an HTTP server receiving EventSub notifications, alone in
 * its process. Tells the parent `{ url, path }` once listening; exits when
 * the parent says `close` (or disconnects).
 */
import 'reflect-metadata';
import { Controller, HttpCode, Injectable, Post, Req, type RawBodyRequest } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { eventSubEventName } from '../../src/twitch-auth/index.js';
import { ApiClient } from '@twurple/api';
import { StaticAuthProvider } from '@twurple/auth';
import { EventSubMiddleware } from '@twurple/eventsub-http';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { BROADCASTER_ID, EVENTSUB_SECRET } from '../lib/eventsub-notification.js';
import { redirectTwitchToFake } from '../lib/loopback-fetch.js';
import { createNestApp, createOurApp, type BenchApp } from '../lib/nest-app.js';

export type EventSubContender =
  'ours-express' | 'ours-fastify' | 'ours-direct-express' | 'ours-direct-fastify' | 'bare-express' | 'bare-fastify' | 'twurple-express';

/** What the server process tells its parent. */
export interface EventSubServerReady {
  url: string;
  /** Where notifications go. */
  path: string;
}

/** The server's answer to `cpu`: user + system CPU time of its process so far. */
export interface EventSubServerCpu {
  cpuMicros: number;
  /** Notifications handed to a listener so far (ours, twurple); 0 for the bare handlers, which dispatch nothing. */
  dispatched: number;
}

let dispatched = 0;

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** The smallest Nest receiver: a POST route that reads the raw body and answers 204. */
@Controller('eventsub')
class BareEventSubController {
  /** Counted so the read of the body is not optimised away. */
  static bytes = 0;

  @Post('callback')
  @HttpCode(204)
  receive(@Req() request: RawBodyRequest<{ rawBody?: Buffer }>): void {
    BareEventSubController.bytes += request.rawBody?.length ?? 0;
  }
}

/**
 * Ours gets a listener for the notifications it is sent, as twurple gets a
 * handler: without one, ours would skip converting and dispatching them.
 */
@Injectable()
class FollowListener {
  @OnEvent(eventSubEventName('channel.follow'))
  onFollow(): void {
    dispatched++;
  }
}

async function startOurs(
  adapter: 'express' | 'fastify',
  mount: 'controller' | 'direct',
): Promise<{ ready: EventSubServerReady; close: () => Promise<void> }> {
  const app = await createOurApp({
    adapter,
    listen: true,
    options: { eventSub: { secret: EVENTSUB_SECRET, mount } },
    providers: [FollowListener],
  });
  return { ready: { url: app.url, path: '/eventsub/callback' }, close: () => app.close() };
}

async function startBare(adapter: 'express' | 'fastify'): Promise<{ ready: EventSubServerReady; close: () => Promise<void> }> {
  const app: BenchApp = await createNestApp([], [BareEventSubController], { adapter, listen: true });
  return { ready: { url: app.url, path: '/eventsub/callback' }, close: () => app.close() };
}

/**
 * twurple's middleware on a plain Express app, as its documentation shows,
 * except that `markAsReady()` is never called: that call lists and creates
 * subscriptions through Helix. Without it, `onChannelFollow` only registers
 * the handler (no request leaves the process), and notifications for it are
 * verified and dispatched as usual.
 */
async function startTwurple(): Promise<{ ready: EventSubServerReady; close: () => Promise<void> }> {
  const apiClient = new ApiClient({ authProvider: new StaticAuthProvider('fake-client-id', 'bench-app-token') });
  const middleware = new EventSubMiddleware({
    apiClient,
    hostName: '127.0.0.1',
    pathPrefix: '/eventsub',
    secret: EVENTSUB_SECRET,
    logger: { minLevel: 'error' },
  });
  const subscription = middleware.onChannelFollow(BROADCASTER_ID, BROADCASTER_ID, () => {
    dispatched++;
  });
  const app = express();
  middleware.apply(app);
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    ready: { url: `http://127.0.0.1:${port}`, path: `/eventsub/event/${subscription.id}` },
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function main(): Promise<void> {
  // Nothing here should call Twitch; if anything tries, it fails on a closed loopback port.
  redirectTwitchToFake('http://127.0.0.1:9');
  const contender = process.argv[2] as EventSubContender;
  const starters: Record<EventSubContender, () => Promise<{ ready: EventSubServerReady; close: () => Promise<void> }>> = {
    'ours-express': () => startOurs('express', 'controller'),
    'ours-fastify': () => startOurs('fastify', 'controller'),
    'ours-direct-express': () => startOurs('express', 'direct'),
    'ours-direct-fastify': () => startOurs('fastify', 'direct'),
    'bare-express': () => startBare('express'),
    'bare-fastify': () => startBare('fastify'),
    'twurple-express': () => startTwurple(),
  };
  const started = await starters[contender]();
  const stop = async () => {
    await started.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('message', (message: string) => {
    if (message === 'close') void stop();
    // The suite reads this before and after each sample: CPU the receiver spent, whatever the load generator managed.
    if (message === 'cpu') process.send!({ cpuMicros: cpuMicros(), dispatched } satisfies EventSubServerCpu);
  });
  process.on('disconnect', () => void stop());
  process.send!(started.ready satisfies EventSubServerReady);
}

main().catch((error: unknown) => {
  process.stderr.write(`eventsub server ${process.argv[2]} failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
