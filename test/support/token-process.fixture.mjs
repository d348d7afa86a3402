// One application process for multi-process token tests: a Nest application context with
// TwitchAuthModule on a SQLite or Postgres database, built from dist/ (run `npm run build` first).
// Plain JavaScript, so a test spawns it with `node` alone. It is configured by the
// TOKEN_PROCESS_CONFIG environment variable (JSON, see test/support/token-process.ts) and driven
// over the IPC channel: { id, op, userId, accessToken? } -> { id, ok, accessToken?, error? }.
// Answers go over IPC only, never to stdout, so tokens stay out of the captured logs.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TokenService, TwitchAuthModule, dataSourceOptionsFromUrl, initializeTwitchAuthDataSource } from '../../dist/twitch-auth/index.js';

const config = JSON.parse(process.env.TOKEN_PROCESS_CONFIG ?? '{}');

function send(message) {
  if (process.connected) process.send(message);
}

/** Tells the test the shutdown hooks have started, i.e. the signal was taken in. */
class ShutdownProbe {
  onModuleDestroy() {
    send({ event: 'shutdown-started' });
  }
}
Injectable()(ShutdownProbe);

class TokenProcessModule {}
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
      twitch: { idBaseUrl: config.idBaseUrl, helixBaseUrl: config.helixBaseUrl, timeoutMs: config.timeoutMs },
      maintenance: config.maintenance ?? { enabled: false },
    }),
  ],
  providers: [ShutdownProbe],
})(TokenProcessModule);

const app = await NestFactory.createApplicationContext(TokenProcessModule, { logger: ['log', 'warn', 'error'] });
app.enableShutdownHooks();
await app.init();
const tokens = app.get(TokenService);

const operations = {
  getUserToken: (message) => tokens.getUserToken(message.userId),
  reportUnauthorized: (message) => tokens.reportUnauthorized(message.userId, message.accessToken),
  refresh: (message) => tokens.refresh(message.userId),
};

process.on('message', (message) => {
  const operation = operations[message.op];
  if (!operation) {
    send({ id: message.id, ok: false, error: { name: 'UnknownOperation', message: `no operation ${message.op}` } });
    return;
  }
  operation(message).then(
    (token) => send({ id: message.id, ok: true, accessToken: token.accessToken }),
    (error) => send({ id: message.id, ok: false, error: { name: error?.name ?? 'Error', message: String(error?.message ?? error) } }),
  );
});
send({ event: 'ready' });
