import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ValueTransformer } from 'typeorm';

/** Postgres returns bigint as a string; instants fit a number. */
const epochMillis: ValueTransformer = {
  to: (value: number) => value,
  from: (value: string | number) => Number(value),
};

/** One WebSocket subscription the app asked for; created again at every boot until unsubscribed. */
@Entity({ name: 'twitch_eventsub_subscriptions' })
@Index('IDX_twitch_eventsub_subscriptions_user', ['userId'])
export class TwitchEventSubSubscriptionEntity {
  /** Hash of user, type, version and condition (`eventSubSubscriptionKey`). */
  @PrimaryColumn({ name: 'subscription_key', type: 'varchar', length: 64 })
  key!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  @Column({ name: 'type', type: 'varchar', length: 255 })
  type!: string;

  @Column({ name: 'version', type: 'varchar', length: 32 })
  version!: string;

  /** The condition as JSON text (same on SQLite and Postgres). */
  @Column({ name: 'condition', type: 'text' })
  condition!: string;

  /** Space-separated scopes checked before subscribing. */
  @Column({ name: 'scopes', type: 'text' })
  scopes!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt!: number;

  /** Twitch's id of the subscription as last created, or null. */
  @Column({ name: 'subscription_id', type: 'varchar', length: 64, nullable: true })
  subscriptionId!: string | null;
}
