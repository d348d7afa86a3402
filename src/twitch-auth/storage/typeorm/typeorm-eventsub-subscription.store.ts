import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { EventSubSubscriptionStore, StoredEventSubSubscription } from '../eventsub-subscription-store.interface.js';
import { TransactionRunner } from './transaction-runner.js';
import { TwitchEventSubSubscriptionEntity } from './twitch-eventsub-subscription.entity.js';

/** Desired WebSocket subscriptions in `twitch_eventsub_subscriptions`, shared by every instance on the database. */
@Injectable()
export class TypeOrmEventSubSubscriptionStore implements EventSubSubscriptionStore {
  private readonly runner: TransactionRunner;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.runner = new TransactionRunner(dataSource);
  }

  async save(subscription: StoredEventSubSubscription): Promise<void> {
    const row = toRow(subscription);
    await this.runner.statement('save eventsub subscription', (manager) =>
      manager
        .createQueryBuilder()
        .insert()
        .into(TwitchEventSubSubscriptionEntity)
        .values(row)
        .orUpdate(['user_id', 'type', 'version', 'condition', 'scopes', 'subscription_id'], ['subscription_key'])
        .execute(),
    );
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.runner.statement('delete eventsub subscription', (manager) =>
      manager.createQueryBuilder().delete().from(TwitchEventSubSubscriptionEntity).where('subscription_key = :key', { key }).execute(),
    );
    return (result.affected ?? 0) > 0;
  }

  async recordSubscriptionId(key: string, subscriptionId: string): Promise<boolean> {
    const result = await this.runner.statement('record eventsub subscription id', (manager) =>
      manager
        .createQueryBuilder()
        .update(TwitchEventSubSubscriptionEntity)
        .set({ subscriptionId })
        .where('subscription_key = :key', { key })
        .updateEntity(false)
        .execute(),
    );
    return (result.affected ?? 0) > 0;
  }

  async list(userId?: string): Promise<StoredEventSubSubscription[]> {
    const rows = await this.runner.statement('list eventsub subscriptions', (manager) => {
      const query = manager.getRepository(TwitchEventSubSubscriptionEntity).createQueryBuilder('s');
      if (userId !== undefined) query.where('s.user_id = :userId', { userId });
      return query.orderBy('s.created_at', 'ASC').addOrderBy('s.subscription_key', 'ASC').getMany();
    });
    return rows.map(fromRow);
  }
}

function toRow(subscription: StoredEventSubSubscription): TwitchEventSubSubscriptionEntity {
  return {
    key: subscription.key,
    userId: subscription.userId,
    type: subscription.type,
    version: subscription.version,
    condition: JSON.stringify(subscription.condition),
    scopes: subscription.scopes.join(' '),
    createdAt: subscription.createdAt.getTime(),
    subscriptionId: subscription.subscriptionId ?? null,
  };
}

function fromRow(row: TwitchEventSubSubscriptionEntity): StoredEventSubSubscription {
  return {
    key: row.key,
    userId: row.userId,
    type: row.type,
    version: row.version,
    condition: JSON.parse(row.condition) as Record<string, string>,
    scopes: row.scopes === '' ? [] : row.scopes.split(' '),
    createdAt: new Date(row.createdAt),
    subscriptionId: row.subscriptionId,
  };
}
