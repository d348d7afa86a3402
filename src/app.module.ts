import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TwitchAuthModule, dataSourceOptionsFromUrl } from './twitch-auth/index.js';
import { BotService } from './demo/bot.service.js';
import { StatusController } from './demo/status.controller.js';

/** Default SQLite file of the demo, the CLI and `ormconfig.ts`. */
export const DEFAULT_DATABASE_URL = 'sqlite:data/twitch-auth.sqlite';

/**
 * The demo application: TwitchAuthModule on a SQLite file (or Postgres
 * through DATABASE_URL), configured from the environment through ConfigService.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        ...dataSourceOptionsFromUrl(config.get<string>('DATABASE_URL') ?? DEFAULT_DATABASE_URL),
        autoLoadEntities: true,
      }),
    }),
    TwitchAuthModule.forRootAsync({
      storage: 'typeorm',
      inject: [ConfigService],
      useFactory: (config: ConfigService) => {
        const port = config.get<string>('PORT') ?? '3000';
        const eventSubSecret = config.get<string>('TWITCH_EVENTSUB_SECRET');
        return {
          clientId: config.getOrThrow<string>('TWITCH_CLIENT_ID'),
          clientSecret: config.get<string>('TWITCH_CLIENT_SECRET'),
          redirectUri: config.get<string>('TWITCH_REDIRECT_URI') ?? `http://localhost:${port}/oauth/callback`,
          defaultScopes: ['chat:read'],
          encryptionKey: config.get<string>('TWITCH_AUTH_ENCRYPTION_KEY'),
          eventSub: eventSubSecret ? { secret: eventSubSecret, publicUrl: config.get<string>('TWITCH_PUBLIC_URL') } : undefined,
          twitch: {
            idBaseUrl: config.get<string>('TWITCH_ID_BASE_URL'),
            helixBaseUrl: config.get<string>('TWITCH_HELIX_BASE_URL'),
          },
        };
      },
    }),
  ],
  controllers: [StatusController],
  providers: [BotService],
})
export class AppModule {}
