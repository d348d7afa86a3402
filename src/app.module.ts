import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TwitchAuthModule, dataSourceOptionsFromUrl, initializeTwitchAuthDataSource } from './twitch-auth/index.js';
import { BotService } from './demo/bot.service.js';
import { EventSubLogListener } from './demo/eventsub-log.listener.js';
import { StatusController } from './demo/status.controller.js';
import { HealthController } from './demo/health.controller.js';
import { DemoMetrics } from './demo/demo-metrics.js';
import { MetricsController } from './demo/metrics.controller.js';
import { demoRedirectUri } from './demo/demo-origin.js';
import { demoDashboard } from './demo/dashboard-access.js';

/** Default SQLite file of the demo, the CLI and `ormconfig.ts`. */
export const DEFAULT_DATABASE_URL = 'sqlite:data/twitch-auth.sqlite';

/**
 * A number of seconds from the environment, or undefined for the module's
 * default. Maintenance is tuned this way (several instances, tests with
 * short-lived tokens): TWITCH_AUTH_TICK_SECONDS, TWITCH_AUTH_REFRESH_BEFORE_SECONDS,
 * TWITCH_AUTH_VALIDATE_EVERY_SECONDS.
 */
function secondsFromEnv(config: ConfigService, name: string): number | undefined {
  const raw = config.get<string>(name);
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`${name} must be a number of seconds; got "${raw}".`);
  return seconds;
}

/** Where the demo receives EventSub webhooks (when TWITCH_EVENTSUB_SECRET is set). */
export const DEMO_EVENTSUB_PATH = '/eventsub/callback';

/**
 * Whether the demo mounts its EventSub receiver. Read from the environment
 * when this module is imported: `forRootAsync` mounts routes before its
 * factory runs. `ConfigModule.forRoot` above has loaded `.env` by then.
 */
function eventSubEnabled(): boolean {
  return (process.env.TWITCH_EVENTSUB_SECRET ?? '') !== '';
}

/**
 * The demo application: TwitchAuthModule on a SQLite file (or Postgres
 * through DATABASE_URL), configured from the environment through ConfigService.
 */
@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    TerminusModule,
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        ...dataSourceOptionsFromUrl(config.get<string>('DATABASE_URL') ?? DEFAULT_DATABASE_URL),
        autoLoadEntities: true,
      }),
      // Several instances starting together on an empty Postgres database migrate one at a time.
      dataSourceFactory: initializeTwitchAuthDataSource,
    }),
    TwitchAuthModule.forRootAsync({
      storage: 'typeorm',
      // The direct mount checks Twitch's headers before reading a body and bounds slow senders.
      routes: { eventSub: eventSubEnabled() ? { path: DEMO_EVENTSUB_PATH, mount: 'direct' } : undefined },
      inject: [ConfigService],
      useFactory: (config: ConfigService) => {
        const port = config.get<string>('PORT') ?? '3000';
        const eventSubSecret = config.get<string>('TWITCH_EVENTSUB_SECRET');
        return {
          clientId: config.getOrThrow<string>('TWITCH_CLIENT_ID'),
          clientSecret: config.get<string>('TWITCH_CLIENT_SECRET'),
          redirectUri: demoRedirectUri({ PORT: port, TWITCH_REDIRECT_URI: config.get<string>('TWITCH_REDIRECT_URI') }),
          defaultScopes: ['chat:read'],
          // What /oauth may ask for: ?set=bot, or the default set.
          oauth: { scopeSets: { bot: ['chat:read', 'chat:edit'] } },
          encryptionKey: config.get<string>('TWITCH_AUTH_ENCRYPTION_KEY'),
          previousEncryptionKeys: (config.get<string>('TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS') ?? '')
            .split(',')
            .map((key) => key.trim())
            .filter((key) => key !== ''),
          eventSub: eventSubSecret
            ? { secret: eventSubSecret, path: DEMO_EVENTSUB_PATH, mount: 'direct', publicUrl: config.get<string>('TWITCH_PUBLIC_URL') }
            : undefined,
          twitch: {
            idBaseUrl: config.get<string>('TWITCH_ID_BASE_URL'),
            helixBaseUrl: config.get<string>('TWITCH_HELIX_BASE_URL'),
          },
          maintenance: {
            tickSeconds: secondsFromEnv(config, 'TWITCH_AUTH_TICK_SECONDS'),
            refreshBeforeExpirySeconds: secondsFromEnv(config, 'TWITCH_AUTH_REFRESH_BEFORE_SECONDS'),
            validateEverySeconds: secondsFromEnv(config, 'TWITCH_AUTH_VALIDATE_EVERY_SECONDS'),
          },
        };
      },
    }),
    // The home page: open on loopback, behind DASHBOARD_TOKEN elsewhere.
    demoDashboard(),
  ],
  controllers: [StatusController, HealthController, MetricsController],
  // main.ts registers the SDK before the app is created; this hands the same one to /metrics.
  providers: [BotService, EventSubLogListener, { provide: DemoMetrics, useFactory: () => DemoMetrics.register() }],
})
export class AppModule {}
