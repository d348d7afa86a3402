// One application process sharing users' EventSub WebSocket sockets with others: a Nest application
// context with TwitchAuthModule on a shared database, built from dist/ (run `npm run build` first).
// Configured by the WEBSOCKET_PROCESS_CONFIG environment variable (JSON, see
// test/support/websocket-process.ts). Every dispatched notification's message id goes to stdout as one
// JSON line, written synchronously so a SIGKILL cannot lose a line already dispatched. Asked over IPC:
// { op: 'status' } -> { result: status and session ids per held user }, { op: 'addUser', args } and
// { op: 'subscribe', args } -> { result } or { error }.
import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  EventSubService,
  EventSubWebSocketTransport,
  TokenService,
  TwitchAuthModule,
  dataSourceOptionsFromUrl,
  initializeTwitchAuthDataSource,
} from '../../dist/twitch-auth/index.js';

const config = JSON.parse(process.env.WEBSOCKET_PROCESS_CONFIG ?? '{}');

function send(message) {
  if (process.connected) process.send(message);
}

/** Reports every dispatched notification. */
class DispatchReporter {
  onNotification(payload) {
    const userId = payload.subscription.condition.broadcaster_user_id ?? null;
    writeSync(1, `${JSON.stringify({ dispatched: payload.messageId, userId })}\n`);
  }
}
Injectable()(DispatchReporter);
OnEvent('twitch.eventsub.notification')(
  DispatchReporter.prototype,
  'onNotification',
  Object.getOwnPropertyDescriptor(DispatchReporter.prototype, 'onNotification'),
);

class WebSocketProcessModule {}
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
      eventSub: { webSocket: config.webSocket },
      maintenance: { enabled: false },
    }),
  ],
  providers: [DispatchReporter],
})(WebSocketProcessModule);

const app = await NestFactory.createApplicationContext(WebSocketProcessModule, { logger: ['log', 'warn', 'error'] });
app.enableShutdownHooks();
await app.init();
const transport = app.get(EventSubWebSocketTransport);
const operations = {
  status: () => {
    const status = transport.status();
    return { ...status, sockets: Object.fromEntries(status.usersHeld.map((userId) => [userId, transport.sessionIds(userId)])) };
  },
  addUser: ({ accessToken, refreshToken }) =>
    app
      .get(TokenService)
      .addUser(accessToken, refreshToken)
      .then(() => null),
  subscribe: ({ type, version, condition, userId }) =>
    app.get(EventSubService).subscribe(type, version, condition, { transport: 'websocket', userId }),
};

process.on('message', (message) => {
  Promise.resolve()
    .then(() => operations[message.op](message.args ?? {}))
    .then(
      (result) => send({ id: message.id, result }),
      (error) => send({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
});
send({ event: 'ready', owner: transport.status().owner });
