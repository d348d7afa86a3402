import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  TokenService,
  TwitchAuthModule,
  dataSourceOptionsFromUrl,
  initializeTwitchAuthDataSource,
  type TwitchAuthRuntimeOptions,
} from '../twitch-auth/index.js';
import { CliError, CliInterruptedError, ExitCode } from './cli.errors.js';
import { CliLogger } from './cli-logger.js';

/** The database the demo app, the CLI and `ormconfig.ts` share unless `DATABASE_URL` says otherwise. */
export const CLI_DEFAULT_DATABASE_URL = 'sqlite:data/twitch-auth.sqlite';

/** What a command may change in the module options. */
export interface CliContextOverrides {
  /** The loopback redirect URI of `login` (browser mode). */
  redirectUri?: string;
  /** Ctrl+C: when it came while the app was starting, the command does not start. */
  signal?: AbortSignal;
}

/** True when `DEBUG` is set: the CLI then prints Nest's logs and stack traces. */
export function debugEnabled(): boolean {
  return Boolean(process.env.DEBUG);
}

@Module({})
class TwitchAuthCliModule {}

let configModule: Promise<DynamicModule> | null = null;

/** Loads `.env` (from the working directory) into `process.env`, once; returns the ConfigModule to import. */
export function loadEnvironment(): Promise<DynamicModule> {
  configModule ??= ConfigModule.forRoot({ isGlobal: true });
  return configModule;
}

/**
 * The CLI's module: the same configuration the app reads (environment or
 * `.env`), the same database, TwitchAuthModule without routes or scheduled
 * maintenance (a command runs and exits).
 */
function cliModule(config: DynamicModule, overrides: CliContextOverrides): DynamicModule {
  return {
    module: TwitchAuthCliModule,
    imports: [
      config,
      EventEmitterModule.forRoot(),
      TypeOrmModule.forRootAsync({
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          ...dataSourceOptionsFromUrl(config.get<string>('DATABASE_URL') || CLI_DEFAULT_DATABASE_URL),
          autoLoadEntities: true,
          logging: false,
          // A command must fail at once, not retry for half a minute.
          retryAttempts: 1,
        }),
        dataSourceFactory: initializeTwitchAuthDataSource,
      }),
      TwitchAuthModule.forRootAsync({
        storage: 'typeorm',
        routes: { oauth: false },
        inject: [ConfigService],
        useFactory: (config: ConfigService): TwitchAuthRuntimeOptions => {
          return {
            clientId: requireClientId(config.get<string>('TWITCH_CLIENT_ID')),
            clientSecret: config.get<string>('TWITCH_CLIENT_SECRET') || undefined,
            redirectUri: overrides.redirectUri ?? (config.get<string>('TWITCH_REDIRECT_URI') || undefined),
            encryptionKey: config.get<string>('TWITCH_AUTH_ENCRYPTION_KEY') || undefined,
            previousEncryptionKeys: keyList(config.get<string>('TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS')),
            maintenance: { enabled: false },
            twitch: {
              idBaseUrl: config.get<string>('TWITCH_ID_BASE_URL') || undefined,
              helixBaseUrl: config.get<string>('TWITCH_HELIX_BASE_URL') || undefined,
            },
          };
        },
      }),
    ],
  };
}

/**
 * Builds the application context, runs `work` with the TokenService, and
 * always closes the context (storage included, pending writes flushed),
 * also when `work` was interrupted.
 */
export function withTokenService<T>(work: (tokens: TokenService) => Promise<T>, overrides: CliContextOverrides = {}): Promise<T> {
  return withTwitchAuth((app) => work(app.get(TokenService)), overrides);
}

/** A comma-separated list of keys (`TWITCH_AUTH_PREVIOUS_ENCRYPTION_KEYS`); blanks are dropped. */
export function keyList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
}

/** Builds the application context, runs `work` with it, and always closes the context (also when interrupted). */
export async function withTwitchAuth<T>(
  work: (app: INestApplicationContext) => Promise<T>,
  overrides: CliContextOverrides = {},
): Promise<T> {
  // `.env` is loaded first, so a missing client id fails before any database is opened.
  const config = await loadEnvironment();
  requireClientId(process.env.TWITCH_CLIENT_ID);
  const app: INestApplicationContext = await NestFactory.createApplicationContext(cliModule(config, overrides), {
    logger: new CliLogger(debugEnabled()),
    abortOnError: false,
  });
  try {
    if (overrides.signal?.aborted) throw new CliInterruptedError('stopped before the command started; nothing was done.');
    return await work(app);
  } finally {
    await app.close();
  }
}

function requireClientId(clientId: string | undefined): string {
  if (!clientId) {
    throw new CliError(
      'TWITCH_CLIENT_ID is not set: export it (and TWITCH_CLIENT_SECRET for a confidential app) or put it in a .env file, with the values of your app in the Twitch developer console.',
      ExitCode.usage,
    );
  }
  return clientId;
}
