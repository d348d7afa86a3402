// What the multi-process EventSub fixtures share (conduit-process.fixture.mjs, websocket-process.fixture.mjs):
// a Nest application context with TwitchAuthModule on a shared database, built from dist/ (run `npm run build`
// first), that writes one JSON line to stdout per dispatched notification (synchronously, so a SIGKILL cannot
// lose a line already dispatched) and speaks the IPC protocol of test/support/app-process.ts:
// { op, id, args } -> { id, result } or { id, error }, and { event: 'ready', owner } once initialized.
import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TwitchAuthModule, dataSourceOptionsFromUrl, initializeTwitchAuthDataSource } from '../../dist/twitch-auth/index.js';

function send(message) {
  if (process.connected) process.send(message);
}

/**
 * Starts the application for `config` (databaseUrl, clientId, clientSecret, idBaseUrl, helixBaseUrl,
 * webSocketUrl) with `eventSub` options. `line(payload)` gives the fields reported per dispatched
 * notification next to `dispatched` (its message id); `operations(app)` the IPC operations; `owner(app)`
 * the lease owner id reported when ready.
 */
export async function runEventSubProcess({ config, eventSub, line, operations, owner }) {
  class DispatchReporter {
    onNotification(payload) {
      writeSync(1, `${JSON.stringify({ dispatched: payload.messageId, ...line(payload) })}\n`);
    }
  }
  Injectable()(DispatchReporter);
  OnEvent('twitch.eventsub.notification')(
    DispatchReporter.prototype,
    'onNotification',
    Object.getOwnPropertyDescriptor(DispatchReporter.prototype, 'onNotification'),
  );

  class EventSubProcessModule {}
  Module({
    imports: [
      EventEmitterModule.forRoot(),
      // Processes starting together on an empty database migrate one at a time, as the README tells apps to.
      TypeOrmModule.forRootAsync({
        useFactory: () => ({ ...dataSourceOptionsFromUrl(config.databaseUrl), autoLoadEntities: true, logging: false }),
        dataSourceFactory: initializeTwitchAuthDataSource,
      }),
      TwitchAuthModule.forRoot({
        storage: 'typeorm',
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        twitch: {
          idBaseUrl: config.idBaseUrl,
          helixBaseUrl: config.helixBaseUrl,
          eventSubWebSocketUrl: config.webSocketUrl,
          timeoutMs: 5_000,
        },
        oauth: { enabled: false },
        eventSub,
        maintenance: { enabled: false },
      }),
    ],
    providers: [DispatchReporter],
  })(EventSubProcessModule);

  const app = await NestFactory.createApplicationContext(EventSubProcessModule, { logger: ['log', 'warn', 'error'] });
  app.enableShutdownHooks();
  await app.init();
  const handlers = operations(app);
  process.on('message', (message) => {
    Promise.resolve()
      .then(() => handlers[message.op](message.args ?? {}))
      .then(
        (result) => send({ id: message.id, result }),
        (error) => send({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  send({ event: 'ready', owner: owner(app) });
}
