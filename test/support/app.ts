import { Module, type DynamicModule, type INestApplication, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  TokenRepository,
  TokenService,
  TwitchAuthModule,
  dataSourceOptionsFromUrl,
  type TwitchAuthModuleOptions,
} from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { captureLogger } from './log-capture.js';

/** One emitted event, as a test listener saw it. */
export interface SeenEvent {
  name: string;
  payload: unknown;
}

export interface TestAppOptions {
  fake: FakeTwitch;
  /** `DATABASE_URL`-style URL; when set, storage is 'typeorm' on that database. */
  databaseUrl?: string;
  /** Overrides of the module options. */
  options?: Partial<TwitchAuthModuleOptions>;
  adapter?: 'express' | 'fastify';
  /** Start an HTTP listener on a free loopback port. */
  listen?: boolean;
  /** Extra providers/controllers (e.g. event handlers) in the root module. */
  providers?: Provider[];
  controllers?: Type[];
  /** Modules imported beside TwitchAuthModule (e.g. the dashboard). */
  imports?: DynamicModule[];
}

export interface TestApp {
  app: INestApplication;
  tokens: TokenService;
  repository: TokenRepository;
  events: SeenEvent[];
  /** `http://127.0.0.1:PORT` when listening. */
  url: string;
  close(): Promise<void>;
}

/** Module options pointing at `fake`, with maintenance off unless asked for. */
export function fakeOptions(fake: FakeTwitch, overrides: Partial<TwitchAuthModuleOptions> = {}): TwitchAuthModuleOptions {
  return {
    clientId: fake.clientId,
    clientSecret: fake.clientSecret ?? undefined,
    twitch: { idBaseUrl: fake.idBaseUrl, helixBaseUrl: fake.helixBaseUrl, timeoutMs: 2_000 },
    maintenance: { enabled: false },
    ...overrides,
  };
}

/** Builds (and optionally starts) a Nest app that imports TwitchAuthModule against FakeTwitch. */
export async function createTestApp(config: TestAppOptions): Promise<TestApp> {
  const imports: DynamicModule[] = [EventEmitterModule.forRoot({ wildcard: false })];
  const options = fakeOptions(config.fake, config.options);
  if (config.databaseUrl) {
    imports.push(TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl(config.databaseUrl), autoLoadEntities: true, logging: false }));
    options.storage = 'typeorm';
  }
  imports.push(TwitchAuthModule.forRoot(options), ...(config.imports ?? []));

  @Module({ imports, providers: config.providers ?? [], controllers: config.controllers ?? [] })
  class TestRootModule {}

  const app =
    config.adapter === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(TestRootModule, new FastifyAdapter(), {
          logger: captureLogger,
          rawBody: true,
          abortOnError: false,
        })
      : await NestFactory.create(TestRootModule, { logger: captureLogger, rawBody: true, abortOnError: false });
  app.enableShutdownHooks();
  const events: SeenEvent[] = [];
  app.get(EventEmitter2).onAny((name: string | string[], payload: unknown) => {
    events.push({ name: String(name), payload });
  });
  let url = '';
  if (config.listen) {
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  } else {
    await app.init();
  }
  return {
    app,
    tokens: app.get(TokenService),
    repository: app.get<TokenRepository>(TokenRepository),
    events,
    url,
    close: () => app.close(),
  };
}

/** An instant `seconds` ago, for seeding expired tokens. */
export function secondsAgo(seconds: number): Date {
  return new Date(Date.now() - seconds * 1000);
}
