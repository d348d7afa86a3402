import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ValueTransformer } from 'typeorm';

/** Postgres returns bigint as a string; instants fit a number. */
const epochMillis: ValueTransformer = {
  to: (value: number) => value,
  from: (value: string | number) => Number(value),
};

/** The lease of the instance that opens one user's EventSub WebSocket sockets; a user without a row is free. */
@Entity({ name: 'twitch_eventsub_socket_leases' })
@Index('IDX_twitch_eventsub_socket_leases_owner', ['owner'])
export class TwitchEventSubSocketLeaseEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  @Column({ name: 'owner', type: 'varchar', length: 128 })
  owner!: string;

  @Column({ name: 'lease_expires_at', type: 'bigint', transformer: epochMillis })
  leaseExpiresAt!: number;
}

/** The heartbeat of one instance sharing the users' EventSub WebSocket sockets. */
@Entity({ name: 'twitch_eventsub_socket_members' })
export class TwitchEventSubSocketMemberEntity {
  @PrimaryColumn({ name: 'owner', type: 'varchar', length: 128 })
  owner!: string;

  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMillis })
  expiresAt!: number;
}
