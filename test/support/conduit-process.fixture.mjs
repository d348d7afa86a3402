// One application process sharing an EventSub conduit with others: a Nest application context with
// TwitchAuthModule on a shared database and `eventSub.conduit`, built from dist/ (run `npm run build`
// first). Configured by the CONDUIT_PROCESS_CONFIG environment variable (JSON, see
// test/support/conduit-process.ts). Every dispatched notification's message id goes to stdout as one
// JSON line, written synchronously so a SIGKILL cannot lose a line already dispatched; the shard status
// is asked over IPC ({ op: 'status' } -> { status }).
import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  EventSubConduitShards,
  TwitchAuthModule,
  dataSourceOptionsFromUrl,
  initializeTwitchAuthDataSource,
} from '../../dist/twitch-auth/index.js';

const config = JSON.parse(process.env.CONDUIT_PROCESS_CONFIG ?? '{}');

function send(message) {
  if (process.connected) process.send(message);
}

/** Reports every dispatched notification. */
class DispatchReporter {
  onNotification(payload) {
    writeSync(1, `${JSON.stringify({ dispatched: payload.messageId, type: payload.subscription.type })}\n`);
  }
}
Injectable()(DispatchReporter);
OnEvent('twitch.eventsub.notification')(
  DispatchReporter.prototype,
  'onNotification',
  Object.getOwnPropertyDescriptor(DispatchReporter.prototype, 'onNotification'),
);

class ConduitProcessModule {}
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
      eventSub: { conduit: config.conduit },
      maintenance: { enabled: false },
    }),
  ],
  providers: [DispatchReporter],
})(ConduitProcessModule);

const app = await NestFactory.createApplicationContext(ConduitProcessModule, { logger: ['log', 'warn', 'error'] });
app.enableShutdownHooks();
await app.init();
const shards = app.get(EventSubConduitShards);

process.on('message', (message) => {
  if (message.op === 'status') send({ id: message.id, status: shards.status() });
});
send({ event: 'ready', owner: shards.owner });
