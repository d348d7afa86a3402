import { Injectable } from '@nestjs/common';
import type { EventSubSubscriptionStore, StoredEventSubSubscription } from './eventsub-subscription-store.interface.js';

/** Desired WebSocket subscriptions in this process's memory: they survive nothing but a socket loss. */
@Injectable()
export class InMemoryEventSubSubscriptionStore implements EventSubSubscriptionStore {
  private readonly rows = new Map<string, StoredEventSubSubscription>();

  async save(subscription: StoredEventSubSubscription): Promise<void> {
    this.rows.set(subscription.key, copy(subscription));
  }

  async delete(key: string): Promise<boolean> {
    return this.rows.delete(key);
  }

  async recordSubscriptionId(key: string, subscriptionId: string): Promise<boolean> {
    const row = this.rows.get(key);
    if (!row) return false;
    row.subscriptionId = subscriptionId;
    return true;
  }

  async list(userId?: string): Promise<StoredEventSubSubscription[]> {
    return [...this.rows.values()]
      .filter((row) => userId === undefined || row.userId === userId)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map(copy);
  }
}

function copy(row: StoredEventSubSubscription): StoredEventSubSubscription {
  return {
    ...row,
    condition: { ...row.condition },
    scopes: [...row.scopes],
    createdAt: new Date(row.createdAt),
    subscriptionId: row.subscriptionId ?? null,
  };
}
