import { randomUUID } from 'node:crypto';
import type { WireEventSubSubscription, WireEventSubTransport } from '../twitch/eventsub-wire.types.js';

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
  'conduit_deleted',
  'websocket_disconnected',
  'websocket_failed_ping_pong',
  'websocket_received_inbound_traffic',
  'websocket_connection_unused',
  'websocket_internal_error',
  'websocket_network_timeout',
  'websocket_network_error',
  'websocket_failed_to_reconnect',
]);

/** True while a subscription counts: enabled, or a webhook still being verified. */
export function isLiveStatus(status: string): boolean {
  return !DEAD_STATUSES.has(status);
}

/** A subscription as FakeTwitch keeps it: Twitch's shape plus what it never lists (a webhook's secret, a WebSocket subscription's user). */
export interface FakeEventSubSubscriptionRecord {
  subscription: WireEventSubSubscription;
  /** The webhook's secret; empty for other transports. */
  secret: string;
  /** User whose token created a WebSocket subscription; `null` for app-token subscriptions. */
  userId: string | null;
}

/** Whose subscriptions a Helix call sees: the app's (webhook, conduit) or one user's (WebSocket). */
export type FakeSubscriptionOwner = { kind: 'app' } | { kind: 'user'; userId: string };

/** Filter of `GET /eventsub/subscriptions`. */
export interface FakeSubscriptionFilter {
  status?: string;
  type?: string;
  userId?: string;
  subscriptionId?: string;
  owner?: FakeSubscriptionOwner;
}

/**
 * The application's EventSub subscriptions, in creation order. Pure state:
 * the Helix routes do the HTTP and the callback handshake.
 */
export class FakeEventSubStore {
  private readonly records = new Map<string, FakeEventSubSubscriptionRecord>();

  /** Adds a subscription; a webhook one starts in `webhook_callback_verification_pending`, others enabled. */
  create(input: {
    type: string;
    version: string;
    condition: Record<string, string>;
    transport: WireEventSubTransport;
    secret?: string;
    userId?: string | null;
    cost?: number;
    now: number;
  }): FakeEventSubSubscriptionRecord {
    const subscription: WireEventSubSubscription = {
      id: randomUUID(),
      status: input.transport.method === 'webhook' ? 'webhook_callback_verification_pending' : 'enabled',
      type: input.type,
      version: input.version,
      cost: input.cost ?? 1,
      condition: { ...input.condition },
      transport: { ...input.transport },
      created_at: new Date(input.now).toISOString(),
    };
    const record = { subscription, secret: input.secret ?? '', userId: input.userId ?? null };
    this.records.set(subscription.id, record);
    return record;
  }

  /** A live subscription with the same type, version, condition and destination (callback, session or conduit), if any (Twitch answers 409 then). */
  findDuplicate(
    type: string,
    version: string,
    condition: Record<string, string>,
    transport: WireEventSubTransport,
  ): WireEventSubSubscription | null {
    for (const { subscription } of this.records.values()) {
      if (DEAD_STATUSES.has(subscription.status)) continue;
      if (subscription.type !== type || subscription.version !== version || !sameDestination(subscription.transport, transport)) continue;
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

  /** The stored records themselves (not copies), oldest first: for delivery, which reads and updates them. */
  all(): IterableIterator<FakeEventSubSubscriptionRecord> {
    return this.records.values();
  }

  /** Copies of the subscriptions matching `filter`, oldest first. */
  list(filter: FakeSubscriptionFilter = {}): WireEventSubSubscription[] {
    const out: WireEventSubSubscription[] = [];
    for (const record of this.records.values()) {
      const { subscription } = record;
      if (filter.owner && !ownedBy(record, filter.owner)) continue;
      if (filter.status !== undefined && subscription.status !== filter.status) continue;
      if (filter.type !== undefined && subscription.type !== filter.type) continue;
      if (filter.subscriptionId !== undefined && subscription.id !== filter.subscriptionId) continue;
      if (filter.userId !== undefined && !Object.values(subscription.condition).includes(filter.userId)) continue;
      out.push(structuredClone(subscription));
    }
    return out;
  }

  /** Helix's `total` (subscriptions whatever their status) and `total_cost` (of live ones) as `owner` sees them. */
  summary(owner: FakeSubscriptionOwner = { kind: 'app' }): { total: number; totalCost: number } {
    let total = 0;
    let totalCost = 0;
    for (const record of this.records.values()) {
      if (!ownedBy(record, owner)) continue;
      total++;
      if (!DEAD_STATUSES.has(record.subscription.status)) totalCost += record.subscription.cost;
    }
    return { total, totalCost };
  }
}

/** App tokens see webhook and conduit subscriptions; a user token sees the WebSocket subscriptions it created. */
function ownedBy(record: FakeEventSubSubscriptionRecord, owner: FakeSubscriptionOwner): boolean {
  const websocket = record.subscription.transport.method === 'websocket';
  return owner.kind === 'app' ? !websocket : websocket && record.userId === owner.userId;
}

function sameDestination(a: WireEventSubTransport, b: WireEventSubTransport): boolean {
  return a.method === b.method && a.callback === b.callback && a.session_id === b.session_id && a.conduit_id === b.conduit_id;
}

function sameCondition(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if ((a[key] ?? '') !== (b[key] ?? '')) return false;
  return true;
}
