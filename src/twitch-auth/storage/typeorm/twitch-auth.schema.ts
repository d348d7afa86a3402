import { CreateTwitchTokens1795316405494 } from './migrations/1795316405494-CreateTwitchTokens.js';
import { CreateTwitchAuthClaims1795320000000 } from './migrations/1795320000000-CreateTwitchAuthClaims.js';
import { CreateTwitchEventSubSubscriptions1795400000000 } from './migrations/1795400000000-CreateTwitchEventSubSubscriptions.js';
import { CreateTwitchConduitShards1795410000000 } from './migrations/1795410000000-CreateTwitchConduitShards.js';
import { CreateTwitchEventSubSocketLeases1795420000000 } from './migrations/1795420000000-CreateTwitchEventSubSocketLeases.js';
import { TwitchAuthClaimEntity } from './twitch-auth-claim.entity.js';
import { TwitchConduitEntity, TwitchConduitMemberEntity, TwitchConduitShardEntity } from './twitch-conduit-shard.entity.js';
import { TwitchEventSubSocketLeaseEntity, TwitchEventSubSocketMemberEntity } from './twitch-eventsub-socket-lease.entity.js';
import { TwitchEventSubSubscriptionEntity } from './twitch-eventsub-subscription.entity.js';
import { TwitchTokenIntentEntity } from './twitch-token-intent.entity.js';
import { TwitchTokenEntity } from './twitch-token.entity.js';

/** Entities to add to your DataSource's `entities` (or let `autoLoadEntities` find them through the module). */
export const twitchAuthEntities = [
  TwitchTokenEntity,
  TwitchTokenIntentEntity,
  TwitchAuthClaimEntity,
  TwitchEventSubSubscriptionEntity,
  TwitchConduitShardEntity,
  TwitchConduitMemberEntity,
  TwitchConduitEntity,
  TwitchEventSubSocketLeaseEntity,
  TwitchEventSubSocketMemberEntity,
];

/** Migrations to add to your DataSource's `migrations`, oldest first; new ones are appended, never edited. */
export const twitchAuthMigrations = [
  CreateTwitchTokens1795316405494,
  CreateTwitchAuthClaims1795320000000,
  CreateTwitchEventSubSubscriptions1795400000000,
  CreateTwitchConduitShards1795410000000,
  CreateTwitchEventSubSocketLeases1795420000000,
];
