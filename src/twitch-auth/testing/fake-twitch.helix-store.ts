import { randomUUID } from 'node:crypto';
import type { WireEventSubSubscription } from '../twitch/eventsub-wire.types.js';

/** Twitch's ceiling on the summed cost of an application's subscriptions. */
export const FAKE_MAX_TOTAL_COST = 10_000;

/** Statuses after which a subscription no longer blocks a new identical one. */
const DEAD_STATUSES: ReadonlySet<string> = new Set([
  'webhook_callback_verification_failed',
  'notification_failures_exceeded',
  'authorization_revoked',
  'moderator_removed',
  'user_removed',
  'chat_user_banned',
  'version_removed',
]);

/** A webhook subscription as FakeTwitch keeps it: Twitch's shape plus the secret it never lists. */
export interface FakeEventSubSubscriptionRecord {
  subscription: WireEventSubSubscription;
  secret: string;
}

/** Filter of `GET /eventsub/subscriptions`. */
export interface FakeSubscriptionFilter {
  status?: string;
  type?: string;
  userId?: string;
  subscriptionId?: string;
}

/**
 * The application's EventSub subscriptions, in creation order. Pure state:
 * the Helix routes do the HTTP and the callback handshake.
 */
export class FakeEventSubStore {
  private readonly records = new Map<string, FakeEventSubSubscriptionRecord>();

  /** Adds a subscription in `webhook_callback_verification_pending`. */
  create(input: {
    type: string;
    version: string;
    condition: Record<string, string>;
    callback: string;
    secret: string;
    now: number;
  }): FakeEventSubSubscriptionRecord {
    const subscription: WireEventSubSubscription = {
      id: randomUUID(),
      status: 'webhook_callback_verification_pending',
      type: input.type,
      version: input.version,
      cost: 1,
      condition: { ...input.condition },
      transport: { method: 'webhook', callback: input.callback },
      created_at: new Date(input.now).toISOString(),
    };
    const record = { subscription, secret: input.secret };
    this.records.set(subscription.id, record);
    return record;
  }

  /** A live subscription with the same type, version, condition and callback, if any (Twitch answers 409 then). */
  findDuplicate(type: string, version: string, condition: Record<string, string>, callback: string): WireEventSubSubscription | null {
    for (const { subscription } of this.records.values()) {
      if (DEAD_STATUSES.has(subscription.status)) continue;
      if (subscription.type !== type || subscription.version !== version || subscription.transport.callback !== callback) continue;
      if (sameCondition(subscription.condition, condition)) return subscription;
    }
    return null;
  }

  /** Sets a subscription's status (after the handshake, or to simulate a revocation). False when unknown. */
  setStatus(id: string, status: string): boolean {
    const record = this.records.get(id);
    if (!record) return false;
    record.subscription.status = status;
    return true;
  }

  /** Deletes a subscription. False when unknown. */
  delete(id: string): boolean {
    return this.records.delete(id);
  }

  /** The subscription and its secret, if known. */
  get(id: string): FakeEventSubSubscriptionRecord | undefined {
    return this.records.get(id);
  }

  /** Copies of the subscriptions matching `filter`, oldest first. */
  list(filter: FakeSubscriptionFilter = {}): WireEventSubSubscription[] {
    const out: WireEventSubSubscription[] = [];
    for (const { subscription } of this.records.values()) {
      if (filter.status !== undefined && subscription.status !== filter.status) continue;
      if (filter.type !== undefined && subscription.type !== filter.type) continue;
      if (filter.subscriptionId !== undefined && subscription.id !== filter.subscriptionId) continue;
      if (filter.userId !== undefined && !Object.values(subscription.condition).includes(filter.userId)) continue;
      out.push(structuredClone(subscription));
    }
    return out;
  }

  /** Number of subscriptions, whatever their status (Helix's `total`). */
  get total(): number {
    return this.records.size;
  }

  /** Summed cost of enabled and pending subscriptions (Helix's `total_cost`). */
  get totalCost(): number {
    let cost = 0;
    for (const { subscription } of this.records.values()) if (!DEAD_STATUSES.has(subscription.status)) cost += subscription.cost;
    return cost;
  }
}

function sameCondition(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if ((a[key] ?? '') !== (b[key] ?? '')) return false;
  return true;
}
