export { TwitchTokenEntity } from './twitch-token.entity.js';
export { TwitchTokenIntentEntity } from './twitch-token-intent.entity.js';
export { CreateTwitchTokens1795316405494 } from './migrations/1795316405494-CreateTwitchTokens.js';
export { twitchAuthEntities, twitchAuthMigrations } from './twitch-auth.schema.js';
export { TypeOrmTokenRepository } from './typeorm-token.repository.js';
export { TokenStorageError } from './token-storage.error.js';
export { dataSourceOptionsFromUrl } from './database-url.js';
export type { DataSourceUrlExtras } from './database-url.js';
export { TwitchAuthClaimEntity } from './twitch-auth-claim.entity.js';
export { CreateTwitchAuthClaims1795320000000 } from './migrations/1795320000000-CreateTwitchAuthClaims.js';
export { TypeOrmClaimStore } from './typeorm-claim.store.js';
export { TwitchEventSubSubscriptionEntity } from './twitch-eventsub-subscription.entity.js';
export { CreateTwitchEventSubSubscriptions1795400000000 } from './migrations/1795400000000-CreateTwitchEventSubSubscriptions.js';
export { TypeOrmEventSubSubscriptionStore } from './typeorm-eventsub-subscription.store.js';
export { TwitchConduitShardEntity, TwitchConduitMemberEntity, TwitchConduitEntity } from './twitch-conduit-shard.entity.js';
export { CreateTwitchConduitShards1795410000000 } from './migrations/1795410000000-CreateTwitchConduitShards.js';
export { TypeOrmConduitShardStore } from './typeorm-conduit-shard.store.js';
export { TwitchEventSubSocketLeaseEntity, TwitchEventSubSocketMemberEntity } from './twitch-eventsub-socket-lease.entity.js';
export { CreateTwitchEventSubSocketLeases1795420000000 } from './migrations/1795420000000-CreateTwitchEventSubSocketLeases.js';
export { TypeOrmEventSubSocketLeaseStore } from './typeorm-eventsub-socket-lease.store.js';
export {
  initializeTwitchAuthDataSource,
  runMigrationsExclusively,
  MIGRATIONS_ADVISORY_LOCK_KEY,
  MIGRATIONS_LOCK_TIMEOUT_MS,
} from './migrations-lock.js';
export type { ExclusiveMigrationOptions } from './migrations-lock.js';
