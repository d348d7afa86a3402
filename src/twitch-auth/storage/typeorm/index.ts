export { TwitchTokenEntity } from './twitch-token.entity.js';
export { TwitchTokenIntentEntity } from './twitch-token-intent.entity.js';
export { CreateTwitchTokens1795316405494 } from './migrations/1795316405494-CreateTwitchTokens.js';
export { twitchAuthEntities, twitchAuthMigrations } from './twitch-auth.schema.js';
export { TypeOrmTokenRepository } from './typeorm-token.repository.js';
export { TokenStorageError } from './token-storage.error.js';
export { dataSourceOptionsFromUrl } from './database-url.js';
export type { DataSourceUrlExtras } from './database-url.js';
