import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ValueTransformer } from 'typeorm';

/** Postgres returns bigint as a string; instants fit a number. */
const epochMillis: ValueTransformer = {
  to: (value: number | null) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** One shard of a conduit and the lease of the instance holding it. */
@Entity({ name: 'twitch_eventsub_conduit_shards' })
export class TwitchConduitShardEntity {
  @PrimaryColumn({ name: 'conduit_id', type: 'varchar', length: 64 })
  conduitId!: string;

  @PrimaryColumn({ name: 'shard_id', type: 'integer' })
  shardId!: number;

  @Column({ name: 'owner', type: 'varchar', length: 128, nullable: true })
  owner!: string | null;

  @Column({ name: 'lease_expires_at', type: 'bigint', nullable: true, transformer: epochMillis })
  leaseExpiresAt!: number | null;

  @Column({ name: 'session_id', type: 'varchar', length: 255, nullable: true })
  sessionId!: string | null;

  @Column({ name: 'associated_at', type: 'bigint', nullable: true, transformer: epochMillis })
  associatedAt!: number | null;
}

/** The heartbeat of one instance sharing a conduit's shards. */
@Entity({ name: 'twitch_eventsub_conduit_members' })
export class TwitchConduitMemberEntity {
  @PrimaryColumn({ name: 'conduit_id', type: 'varchar', length: 64 })
  conduitId!: string;

  @PrimaryColumn({ name: 'owner', type: 'varchar', length: 128 })
  owner!: string;

  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMillis })
  expiresAt!: number;
}

/** The conduit id every instance uses for a configured conduit name. */
@Entity({ name: 'twitch_eventsub_conduits' })
export class TwitchConduitEntity {
  @PrimaryColumn({ name: 'name', type: 'varchar', length: 100 })
  name!: string;

  @Column({ name: 'conduit_id', type: 'varchar', length: 64 })
  conduitId!: string;
}
