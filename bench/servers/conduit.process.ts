/**
 * One B7 instance: a Nest application context holding a share of a conduit's
 * shards (`eventSub.conduit`) on a shared Postgres database, alone in its
 * process. Tells the parent `ready` once initialized; closes the app on
 * `close` (the parent SIGKILLs the victim instead).
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  EventSubConduitShards,
  TwitchAuthModule,
  dataSourceOptionsFromUrl,
  initializeTwitchAuthDataSource,
  type EventSubConduitOptions,
} from '../../src/twitch-auth/index.js';

/** What the parent passes as the first argument (JSON). */
export interface ConduitInstanceConfig {
  databaseUrl: string;
  clientId: string;
  clientSecret: string;
  idBaseUrl: string;
  helixBaseUrl: string;
  webSocketUrl: string;
  conduit: EventSubConduitOptions;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ConduitInstanceConfig;

@Module({
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
})
class ConduitInstanceModule {}

const app = await NestFactory.createApplicationContext(ConduitInstanceModule, { logger: ['error'] });
await app.init();
const shards = app.get(EventSubConduitShards);
process.on('message', (message: { type?: string }) => {
  if (message.type === 'status') process.send?.({ type: 'status', status: shards.status() });
  if (message.type === 'close') void app.close().then(() => process.exit(0));
});
process.on('disconnect', () => void app.close().then(() => process.exit(0)));
process.send?.({ type: 'ready' });
