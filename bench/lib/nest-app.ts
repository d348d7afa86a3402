import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TokenService, TwitchAuthModule, dataSourceOptionsFromUrl, type TwitchAuthModuleOptions } from '../../src/twitch-auth/index.js';

/** How a bench builds "ours": the way the README tells users to, pointed at FakeTwitch. */
export interface OurAppOptions {
  /** FakeTwitch origin; a closed loopback port when the workload never talks to Twitch. */
  idBaseUrl?: string;
  clientId?: string;
  clientSecret?: string;
  /** `sqlite:<file>` for TypeORM storage; in-memory storage when absent. */
  databaseUrl?: string;
  /** Overrides of the module options (maintenance, eventSub...). */
  options?: Partial<TwitchAuthModuleOptions>;
  adapter?: 'express' | 'fastify';
  /** Start an HTTP listener on a free loopback port. */
  listen?: boolean;
  controllers?: Type[];
  /** Extra providers of the root module (e.g. event listeners). */
  providers?: Type[];
}

/** A started Nest app. */
export interface BenchApp {
  app: INestApplication;
  /** `http://127.0.0.1:PORT` when listening. */
  url: string;
  close(): Promise<void>;
}

export interface OurApp extends BenchApp {
  tokens: TokenService;
}

/** A port nothing listens on: any accidental request fails fast instead of leaving the machine. */
const NOWHERE = 'http://127.0.0.1:9';

/** EventEmitterModule + TwitchAuthModule.forRoot, maintenance off unless asked for. Logs errors only. */
export async function createOurApp(config: OurAppOptions = {}): Promise<OurApp> {
  const imports: DynamicModule[] = [EventEmitterModule.forRoot({ wildcard: false })];
  const idBaseUrl = config.idBaseUrl ?? NOWHERE;
  const options: TwitchAuthModuleOptions = {
    clientId: config.clientId ?? 'fake-client-id',
    clientSecret: config.clientSecret ?? 'fake-client-secret',
    twitch: { idBaseUrl, helixBaseUrl: `${idBaseUrl}/helix`, timeoutMs: 30_000 },
    maintenance: { enabled: false },
    ...config.options,
  };
  if (config.databaseUrl) {
    imports.push(TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl(config.databaseUrl), autoLoadEntities: true, logging: false }));
    options.storage = 'typeorm';
  }
  imports.push(TwitchAuthModule.forRoot(options));
  const started = await createNestApp(imports, config.controllers ?? [], config, config.providers ?? []);
  return { ...started, tokens: started.app.get(TokenService) };
}

/** A Nest app of `imports` and `controllers` on the chosen adapter, raw body on, logging errors only. */
export async function createNestApp(
  imports: DynamicModule[],
  controllers: Type[],
  config: { adapter?: 'express' | 'fastify'; listen?: boolean },
  providers: Type[] = [],
): Promise<BenchApp> {
  @Module({ imports, controllers, providers })
  class BenchRootModule {}

  const logger = ['error' as const];
  const app =
    config.adapter === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(BenchRootModule, new FastifyAdapter(), {
          logger,
          rawBody: true,
          abortOnError: false,
        })
      : await NestFactory.create(BenchRootModule, { logger, rawBody: true, abortOnError: false });
  let url = '';
  if (config.listen) {
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  } else {
    await app.init();
  }
  return { app, url, close: () => app.close() };
}
