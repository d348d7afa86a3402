import { Module, type CanActivate, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import express from 'express';
import fastify, { type FastifyInstance } from 'fastify';
import { createServer, type RequestListener } from 'node:http';
import { connect } from 'node:net';
import { APP_GUARD, HttpAdapterHost, NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TwitchAuthConfigError, TwitchAuthModule } from '../../src/twitch-auth/index.js';
import { EventSubDirectRoute } from '../../src/twitch-auth/eventsub/eventsub-direct-route.js';
import type { EventSubReceiver } from '../../src/twitch-auth/eventsub/eventsub-receiver.js';
import { EventSubSender, type FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { fakeOptions } from '../support/app.js';
import { captureLogger } from '../support/log-capture.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';
import {
  EVENTSUB_SECRET,
  EventSubListener,
  eventSubOptions,
  eventually,
  followEvent,
  freePort,
  settle,
  type Adapter,
} from './eventsub-support.js';

guardSecret(EVENTSUB_SECRET);

/** A global guard that refuses every Nest route, as an app-wide auth guard would refuse Twitch. */
class DenyAllGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

function rootModule(fake: FakeTwitch, port: number, extraProviders: unknown[] = []) {
  @Module({
    imports: [
      EventEmitterModule.forRoot(),
      TwitchAuthModule.forRoot(fakeOptions(fake, { eventSub: eventSubOptions(port, { mount: 'direct' }) })),
    ],
    providers: [EventSubListener, ...(extraProviders as never[])],
  })
  class DirectRootModule {}
  return DirectRootModule;
}

/** A Nest app of `root` on `adapter`, logging to the capture, `rawBody` off unless `extra` says otherwise. */
function createApp(adapter: Adapter, root: ReturnType<typeof rootModule>, extra: { bodyParser?: boolean } = {}): Promise<INestApplication> {
  const options = { logger: captureLogger, abortOnError: false, ...extra };
  return adapter === 'fastify'
    ? NestFactory.create<NestFastifyApplication>(root, new FastifyAdapter(), options)
    : NestFactory.create(root, options);
}

describe.each<Adapter>(['express', 'fastify'])("eventSub.mount 'direct' on %s", (adapter) => {
  let fake: FakeTwitch;

  beforeAll(async () => {
    fake = await startFake();
  });
  afterAll(() => fake.close());

  it('needs no rawBody, ignores the global prefix and is not stopped by a global guard that stops Nest routes', async () => {
    const port = await freePort();
    const root = rootModule(fake, port, [{ provide: APP_GUARD, useClass: DenyAllGuard }]);
    const app = await createApp(adapter, root, { bodyParser: false });
    app.setGlobalPrefix('api');
    await app.listen(port, '127.0.0.1');
    try {
      const url = `http://127.0.0.1:${port}`;
      // The guard and the prefix are in force for Nest's own routes...
      expect((await fetch(`${url}/api/oauth`, { redirect: 'manual' })).status).toBe(403);
      // ...and the callback is served at exactly eventSub.path, outside them.
      const sender = new EventSubSender({ callbackUrl: `${url}/eventsub/callback`, secret: EVENTSUB_SECRET });
      const result = await sender.notification('channel.follow', followEvent());
      expect(result.status).toBe(204);
      await eventually(() => app.get(EventSubListener).follows.length === 1);
      expect(app.get(EventSubListener).follows[0].messageId).toBe(result.messageId);
      const forged = await sender.notification('channel.follow', followEvent(), { secret: 'not-the-secret-at-all' });
      expect(forged.status).toBe(403);
      const prefixed = new EventSubSender({ callbackUrl: `${url}/api/eventsub/callback`, secret: EVENTSUB_SECRET });
      expect((await prefixed.notification('channel.follow', followEvent())).status).toBe(404);
      const wrongType = await fetch(`${url}/eventsub/callback`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
      expect(wrongType.status).toBe(415);
      await settle();
      expect(app.get(EventSubListener).notifications).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it("answers at the HTTP server, before the framework: the app's own middleware never sees the callback, and sees every other request", async () => {
    const port = await freePort();
    const seen: string[] = [];
    const observe = (request: { method?: string; url?: string }) => seen.push(`${request.method} ${request.url}`);
    let app: INestApplication;
    if (adapter === 'fastify') {
      // A hook on the root instance runs for every route of every plugin, the direct route's included.
      const instance = fastify();
      instance.addHook('onRequest', (request, _reply, done) => {
        observe(request);
        done();
      });
      app = await NestFactory.create<NestFastifyApplication>(rootModule(fake, port), new FastifyAdapter(instance), {
        logger: captureLogger,
        abortOnError: false,
      });
    } else {
      // Middleware on the Express instance before Nest gets it runs ahead of every route Nest or the module adds.
      const instance = express();
      instance.use((request, _response, next) => {
        observe(request);
        next();
      });
      app = await NestFactory.create(rootModule(fake, port), new ExpressAdapter(instance), { logger: captureLogger, abortOnError: false });
    }
    await app.listen(port, '127.0.0.1');
    try {
      const url = `http://127.0.0.1:${port}`;
      for (const callbackUrl of [`${url}/eventsub/callback`, `${url}/eventsub/callback?from=twitch`, `${url}/eventsub/callback/`]) {
        const sender = new EventSubSender({ callbackUrl, secret: EVENTSUB_SECRET });
        expect((await sender.notification('channel.follow', followEvent())).status).toBe(204);
      }
      await eventually(() => app.get(EventSubListener).follows.length === 3);
      expect(seen).toEqual([]);

      // Anything else is the framework's, as before: other methods and paths, and the module's other routes.
      expect((await fetch(`${url}/eventsub/callback`)).status).toBe(404);
      expect((await fetch(`${url}/eventsub/callbacks`, { method: 'POST', body: '{}' })).status).toBe(404);
      expect((await fetch(`${url}/oauth?set=default`, { redirect: 'manual' })).status).toBe(302);
      expect(seen).toEqual(['GET /eventsub/callback', 'POST /eventsub/callbacks', 'GET /oauth?set=default']);
    } finally {
      await app.close();
    }
  });

  it("serves requests handed to the framework without the app's HTTP server (serverless handlers, Fastify's router) from its route", async () => {
    const port = await freePort();
    const app = await createApp(adapter, rootModule(fake, port));
    await app.init();
    let outside: ReturnType<typeof createServer> | undefined;
    try {
      // As a serverless wrapper does: a server of its own that hands every request to the framework's router.
      if (adapter === 'fastify') await (app.getHttpAdapter().getInstance() as FastifyInstance).ready();
      const framework: RequestListener =
        adapter === 'fastify'
          ? (request, response) => (app.getHttpAdapter().getInstance() as FastifyInstance).routing(request, response)
          : (app.getHttpAdapter().getInstance() as RequestListener);
      outside = createServer(framework);
      const outsidePort = await freePort();
      await new Promise<void>((resolve) => outside!.listen(outsidePort, '127.0.0.1', resolve));
      const sender = new EventSubSender({ callbackUrl: `http://127.0.0.1:${outsidePort}/eventsub/callback`, secret: EVENTSUB_SECRET });
      const { status, messageId } = await sender.notification('channel.follow', followEvent(), { version: '2' });
      expect(status).toBe(204);
      await eventually(() => app.get(EventSubListener).follows.length === 1);
      expect(app.get(EventSubListener).follows[0].messageId).toBe(messageId);
    } finally {
      if (outside) await new Promise((resolve) => outside!.close(resolve));
      await app.close();
    }
  });

  it('survives a client that goes away mid-body, and keeps serving', async () => {
    const port = await freePort();
    const app = await createApp(adapter, rootModule(fake, port));
    await app.listen(port, '127.0.0.1');
    try {
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            'POST /eventsub/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"subscription":',
          );
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on('close', () => resolve());
        socket.on('error', () => undefined);
      });
      const sender = new EventSubSender({ callbackUrl: `http://127.0.0.1:${port}/eventsub/callback`, secret: EVENTSUB_SECRET });
      expect((await sender.notification('channel.follow', followEvent())).status).toBe(204);
      await eventually(() => app.get(EventSubListener).follows.length === 1);
      await settle();
      expect(app.get(EventSubListener).notifications).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('works from a testing module, whose providers exist before the HTTP adapter (registered at init, behind the parsers)', async () => {
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({ imports: [rootModule(fake, port)] }).compile();
    const app: INestApplication =
      adapter === 'fastify'
        ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: captureLogger, rawBody: true })
        : moduleRef.createNestApplication({ logger: captureLogger, rawBody: true });
    await app.listen(port, '127.0.0.1');
    try {
      const sender = new EventSubSender({ callbackUrl: `http://127.0.0.1:${port}/eventsub/callback`, secret: EVENTSUB_SECRET });
      const challenge = await sender.challenge({ challenge: 'late-registration' });
      expect([challenge.status, challenge.body]).toEqual([200, 'late-registration']);
      const result = await sender.notification('channel.follow', followEvent());
      expect(result.status).toBe(204);
      await eventually(() => app.get(EventSubListener).follows.length === 1);
    } finally {
      await app.close();
    }
  });
});

describe("eventSub.mount 'direct' configuration", () => {
  it('refuses an HTTP adapter other than Express or Fastify, saying what to use instead', () => {
    const host = { httpAdapter: { getType: () => 'koa' } } as unknown as HttpAdapterHost;
    let error: unknown;
    try {
      new EventSubDirectRoute(host, {} as EventSubReceiver, '/eventsub/callback', { eventSub: null } as never);
    } catch (caughtError) {
      error = caughtError;
    }
    expect(error).toBeInstanceOf(TwitchAuthConfigError);
    expect((error as Error).message).toContain("use mount 'controller'");
  });

  it('refuses an unknown mount value at forRoot, naming the option', () => {
    expect(() => TwitchAuthModule.forRoot({ clientId: 'id', eventSub: { secret: EVENTSUB_SECRET, mount: 'middleware' as never } })).toThrow(
      "eventSub.mount must be 'controller' or 'direct'",
    );
  });
});
