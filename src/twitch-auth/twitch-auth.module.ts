import { Logger, Module, type DynamicModule, type ModuleMetadata, type Provider, type Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TWITCH_AUTH_RESOLVED_OPTIONS, TWITCH_AUTH_TOKEN_SOURCE } from './twitch-auth.constants.js';
import { TwitchAuthConfigError } from './twitch-auth.errors.js';
import { TwitchAuthEventPublisher } from './twitch-auth.events.js';
import type { EventSubMount, ResolvedTwitchAuthOptions, TokenStorageOption, TwitchAuthModuleOptions } from './twitch-auth.options.js';
import { eventSubMount, normalisePath } from './twitch-auth.option-checks.js';
import { resolveTwitchAuthOptions } from './twitch-auth.option-resolver.js';
import type { TwitchAuthModuleParts, TwitchAuthModulePartsFactory, TwitchAuthRoutes } from './twitch-auth.module-parts.js';
import { ClaimStore } from './storage/claim-store.interface.js';
import { InMemoryClaimStore } from './storage/in-memory-claim.store.js';
import { ConduitShardStore } from './storage/conduit-shard-store.interface.js';
import { InMemoryConduitShardStore } from './storage/in-memory-conduit-shard.store.js';
import { TypeOrmConduitShardStore } from './storage/typeorm/typeorm-conduit-shard.store.js';
import { EventSubSocketLeaseStore } from './storage/eventsub-socket-lease-store.interface.js';
import { InMemoryEventSubSocketLeaseStore } from './storage/in-memory-eventsub-socket-lease.store.js';
import { TypeOrmEventSubSocketLeaseStore } from './storage/typeorm/typeorm-eventsub-socket-lease.store.js';
import { TypeOrmClaimStore } from './storage/typeorm/typeorm-claim.store.js';
import { EventSubSubscriptionStore } from './storage/eventsub-subscription-store.interface.js';
import { InMemoryEventSubSubscriptionStore } from './storage/in-memory-eventsub-subscription.store.js';
import { TypeOrmEventSubSubscriptionStore } from './storage/typeorm/typeorm-eventsub-subscription.store.js';
import { InMemoryTokenRepository } from './storage/in-memory-token.repository.js';
import { warnIfTokensInPlainText } from './storage/plain-text-warning.js';
import { TokenRepository } from './storage/token-repository.interface.js';
import { TypeOrmTokenRepository } from './storage/typeorm/typeorm-token.repository.js';
import { twitchAuthEntities } from './storage/typeorm/index.js';
import { AppTokenProvider } from './tokens/app-token.provider.js';
import { DeviceFlowPoller } from './tokens/device-flow.js';
import { TokenCache } from './tokens/token-cache.js';
import { TokenCipher } from './tokens/token-cipher.js';
import { TokenKeyRotator } from './tokens/token-key-rotation.js';
import { TokenRefresher } from './tokens/token-refresher.js';
import type { TokenSource } from './tokens/token-source.interface.js';
import { TokenStore } from './tokens/token-store.js';
import { TokenService } from './tokens/token.service.js';
import { TwitchIdentityClient } from './twitch/twitch-identity.client.js';
import { oauthModuleParts } from './oauth/oauth.module-parts.js';
import { eventSubModuleParts } from './eventsub/eventsub.module-parts.js';
import { helixModuleParts } from './helix/helix.module-parts.js';
import { schedulingModuleParts } from './scheduling/scheduling.module-parts.js';
import { metricsModuleParts } from './metrics/metrics.module-parts.js';

/** Injection token of the options exactly as given to `forRoot`/`forRootAsync`'s factory. */
export const TWITCH_AUTH_MODULE_OPTIONS = Symbol('TWITCH_AUTH_MODULE_OPTIONS');

/** Options whose values shape the module itself, so `forRootAsync` takes them synchronously. */
export interface TwitchAuthStructuralOptions {
  /** Default 'memory'. */
  storage?: TokenStorageOption;
  tokenSource?: Type<TokenSource>;
  isGlobal?: boolean;
}

/**
 * `forRootAsync` only: where to mount the built-in routes (`forRoot` reads
 * them from `oauth` and `eventSub`). Default: OAuth at `/oauth` and
 * `/oauth/callback`; no EventSub receiver.
 */
export interface TwitchAuthAsyncRoutes {
  oauth?: { path?: string; callbackPath?: string } | false;
  /**
   * The EventSub callback. Absent while the factory returns `eventSub`
   * options stops the app (a receiver Twitch would get 404 from); `false`
   * says on purpose that this instance receives nothing (it may still
   * manage subscriptions with `EventSubService`).
   */
  eventSub?: { path?: string; mount?: EventSubMount } | false;
}

/**
 * The features mounted next to the token core. Each entry contributes
 * providers and controllers; see `TwitchAuthModuleParts`.
 */
const FEATURES: TwitchAuthModulePartsFactory[] = [
  oauthModuleParts,
  helixModuleParts,
  eventSubModuleParts,
  schedulingModuleParts,
  metricsModuleParts,
];

/** `forRootAsync`: runtime values from a factory (e.g. `ConfigService`), structure given directly. */
export interface TwitchAuthModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'>, TwitchAuthStructuralOptions {
  routes?: TwitchAuthAsyncRoutes;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory: (...args: any[]) => TwitchAuthRuntimeOptions | Promise<TwitchAuthRuntimeOptions>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inject?: any[];
}

/** What `forRootAsync`'s factory returns: every option but the structural ones. */
export type TwitchAuthRuntimeOptions = Omit<TwitchAuthModuleOptions, keyof TwitchAuthStructuralOptions>;

/**
 * The module. Import it once, in the root module:
 *
 * ```ts
 * TwitchAuthModule.forRoot({ clientId, clientSecret, storage: 'typeorm' })
 * ```
 * then inject `TokenService` anywhere.
 */
@Module({})
export class TwitchAuthModule {
  /** Configures the module with static options. */
  static forRoot(options: TwitchAuthModuleOptions): DynamicModule {
    // Fail at import time with a clear message, before Nest builds anything.
    const resolved = resolveTwitchAuthOptions(options);
    const routes: TwitchAuthRoutes = {
      oauth: resolved.oauth.enabled ? { path: resolved.oauth.path, callbackPath: resolved.oauth.callbackPath } : null,
      eventSub: resolved.eventSub ? { path: resolved.eventSub.path, mount: resolved.eventSub.mount } : null,
    };
    return this.build({ provide: TWITCH_AUTH_MODULE_OPTIONS, useValue: options }, options, [], routes);
  }

  /** Configures the module from a factory, e.g. one that reads `ConfigService`. */
  static forRootAsync(options: TwitchAuthModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function') {
      throw new TwitchAuthConfigError('TwitchAuthModule.forRootAsync needs useFactory.');
    }
    return this.build(
      { provide: TWITCH_AUTH_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
      options,
      options.imports ?? [],
      asyncRoutes(options.routes),
      options.routes?.eventSub === false,
    );
  }

  private static build(
    optionsProvider: Provider,
    structure: TwitchAuthStructuralOptions,
    imports: NonNullable<ModuleMetadata['imports']>,
    routes: TwitchAuthRoutes,
    eventSubUnmountedOnPurpose = false,
  ): DynamicModule {
    const storage = structure.storage ?? 'memory';
    const providers: Provider[] = [
      optionsProvider,
      {
        provide: TWITCH_AUTH_RESOLVED_OPTIONS,
        useFactory: (raw: TwitchAuthModuleOptions) =>
          checkRoutesMatch(resolveTwitchAuthOptions(raw), raw, routes, eventSubUnmountedOnPurpose),
        inject: [TWITCH_AUTH_MODULE_OPTIONS],
      },
      {
        provide: TokenCipher,
        useFactory: (o: ResolvedTwitchAuthOptions) => {
          warnIfTokensInPlainText(storage, o.encryptionKey);
          return new TokenCipher(o.encryptionKey, { previousKeys: o.previousEncryptionKeys, acceptPlaintext: o.acceptPlaintextTokens });
        },
        inject: [TWITCH_AUTH_RESOLVED_OPTIONS],
      },
      {
        provide: TwitchIdentityClient,
        useFactory: (o: ResolvedTwitchAuthOptions) =>
          new TwitchIdentityClient({
            clientId: o.clientId,
            clientSecret: o.clientSecret,
            redirectUri: o.redirectUri,
            idBaseUrl: o.twitch.idBaseUrl,
            timeoutMs: o.twitch.timeoutMs,
          }),
        inject: [TWITCH_AUTH_RESOLVED_OPTIONS],
      },
      repositoryProvider(storage),
      claimStoreProvider(storage),
      // Shards are shared through the database only with 'typeorm'; otherwise this instance holds them all (up to its cap).
      { provide: ConduitShardStore, useClass: storage === 'typeorm' ? TypeOrmConduitShardStore : InMemoryConduitShardStore },
      eventSubSubscriptionStoreProvider(storage),
      // Users' sockets are shared through the database only with 'typeorm'; otherwise this instance holds every user.
      {
        provide: EventSubSocketLeaseStore,
        useClass: storage === 'typeorm' ? TypeOrmEventSubSocketLeaseStore : InMemoryEventSubSocketLeaseStore,
      },
      TwitchAuthEventPublisher,
      TokenStore,
      TokenCache,
      TokenRefresher,
      AppTokenProvider,
      DeviceFlowPoller,
      TokenService,
      TokenKeyRotator,
    ];
    if (structure.tokenSource) {
      providers.push(structure.tokenSource, { provide: TWITCH_AUTH_TOKEN_SOURCE, useExisting: structure.tokenSource });
    }
    const controllers: Type[] = [];
    const exports: NonNullable<TwitchAuthModuleParts['exports']> = [
      TokenService,
      TokenKeyRotator,
      TokenRepository,
      ClaimStore,
      ConduitShardStore,
      TwitchIdentityClient,
      TWITCH_AUTH_RESOLVED_OPTIONS,
    ];
    for (const feature of FEATURES) {
      const parts = feature(routes);
      providers.push(...(parts.providers ?? []));
      controllers.push(...(parts.controllers ?? []));
      exports.push(...(parts.exports ?? []));
    }
    const moduleImports = [...imports];
    if (storage === 'typeorm') moduleImports.push(TypeOrmModule.forFeature(twitchAuthEntities));
    return {
      module: TwitchAuthModule,
      global: structure.isGlobal ?? false,
      imports: moduleImports,
      providers,
      controllers,
      exports,
    };
  }
}

/**
 * `forRootAsync` mounts the callback from `routes` before its factory runs;
 * factory options that say otherwise would be silently ignored, so they stop
 * the app instead: `eventSub` options with no `routes.eventSub` (no receiver
 * at all: Twitch's verification would get 404), or an `eventSub.path` or
 * `eventSub.mount` other than the mounted one.
 */
function checkRoutesMatch(
  resolved: ResolvedTwitchAuthOptions,
  raw: TwitchAuthModuleOptions,
  routes: TwitchAuthRoutes,
  eventSubUnmountedOnPurpose: boolean,
): ResolvedTwitchAuthOptions {
  const mounted = routes.eventSub;
  if (!resolved.eventSub) return resolved;
  if (!mounted) {
    if (eventSubUnmountedOnPurpose) return resolved;
    throw new TwitchAuthConfigError(
      `forRootAsync's factory returned eventSub options but no EventSub callback is mounted, so Twitch's requests would get 404: ` +
        `set routes.eventSub in forRootAsync (e.g. routes: { eventSub: { path: ${JSON.stringify(resolved.eventSub.path)}, ` +
        `mount: ${JSON.stringify(resolved.eventSub.mount)} } }), which is read before the factory runs; ` +
        `or routes: { eventSub: false } if this instance only manages subscriptions.`,
    );
  }
  for (const key of ['path', 'mount'] as const) {
    if (raw.eventSub?.[key] !== undefined && resolved.eventSub[key] !== mounted[key]) {
      throw new TwitchAuthConfigError(
        `eventSub.${key} is ${JSON.stringify(resolved.eventSub[key])} but the callback is mounted with ${key} ` +
          `${JSON.stringify(mounted[key])}: with forRootAsync, set it in routes.eventSub.${key}, which is read before the factory runs.`,
      );
    }
  }
  return resolved;
}

function asyncRoutes(routes: TwitchAuthAsyncRoutes = {}): TwitchAuthRoutes {
  const oauth =
    routes.oauth === false ? null : { path: routes.oauth?.path ?? '/oauth', callbackPath: routes.oauth?.callbackPath ?? '/oauth/callback' };
  const eventSub = routes.eventSub
    ? {
        path: normalisePath(routes.eventSub.path ?? '/eventsub/callback', 'routes.eventSub.path'),
        mount: eventSubMount(routes.eventSub.mount, 'routes.eventSub.mount'),
      }
    : null;
  return { oauth, eventSub };
}

/** Desired WebSocket subscriptions live in the database with 'typeorm' storage, else in this process's memory. */
function eventSubSubscriptionStoreProvider(storage: TokenStorageOption): Provider {
  if (storage === 'typeorm') return { provide: EventSubSubscriptionStore, useClass: TypeOrmEventSubSubscriptionStore };
  return { provide: EventSubSubscriptionStore, useClass: InMemoryEventSubSubscriptionStore };
}

/**
 * The claim store follows the storage choice: the database for 'typeorm', a
 * custom repository that also implements `ClaimStore`, or else this process's memory.
 */
function claimStoreProvider(storage: TokenStorageOption): Provider {
  if (storage === 'typeorm') return { provide: ClaimStore, useClass: TypeOrmClaimStore };
  return {
    provide: ClaimStore,
    useFactory: (repository: TokenRepository & Partial<ClaimStore>) => {
      if (typeof repository.claim === 'function') return repository as unknown as ClaimStore;
      // Memory storage is one process by nature; a custom repository is usually shared, and this would silently not be.
      if (storage !== 'memory') new Logger('TwitchAuth').warn(CUSTOM_REPOSITORY_WITHOUT_CLAIMS);
      return new InMemoryClaimStore();
    },
    inject: [TokenRepository],
  };
}

/** Logged at startup when a custom repository leaves claims to this process's memory. */
export const CUSTOM_REPOSITORY_WITHOUT_CLAIMS =
  "The custom token repository does not implement ClaimStore, so EventSub de-duplication and OAuth state single-use are per process: with several instances, a message Twitch delivers to two of them is dispatched twice and a state can be redeemed once per instance. Implement ClaimStore's claim(namespace, key, expiresAt) on the repository, atomic across instances (see TypeOrmClaimStore), to share them.";

function repositoryProvider(storage: TokenStorageOption): Provider {
  if (storage === 'memory') return { provide: TokenRepository, useClass: InMemoryTokenRepository };
  if (storage === 'typeorm') return { provide: TokenRepository, useClass: TypeOrmTokenRepository };
  if (typeof storage === 'function') return { provide: TokenRepository, useClass: storage };
  if (storage && typeof storage === 'object' && typeof (storage as TokenRepository).acquireLease === 'function') {
    return { provide: TokenRepository, useValue: storage };
  }
  throw new TwitchAuthConfigError(
    `storage must be 'memory', 'typeorm', a TokenRepository class or a TokenRepository instance; got ${String(storage)}.`,
  );
}
