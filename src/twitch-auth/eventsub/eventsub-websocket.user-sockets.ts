import type { WireEventSubSubscription } from '../twitch/eventsub-wire.types.js';
import { eventSubReconnectDelayMs, type EventSubWebSocketConnection, type EventSubWebSocketLoss } from './eventsub-websocket.connection.js';
import { EventSubWebSocketClosedError, EventSubWebSocketLimitError } from './eventsub-websocket.errors.js';
import { errorMessage } from './eventsub-background.js';

/** Twitch's limits per user and client id. */
export const EVENTSUB_WEBSOCKET_LIMITS = {
  /** Enabled subscriptions on one socket. */
  subscriptionsPerSocket: 300,
  /** Sockets with enabled subscriptions. */
  socketsPerUser: 3,
  /** `max_total_cost` until Twitch says otherwise. */
  maxTotalCost: 10,
} as const;

/** One subscription a user's socket should carry. */
export interface WebSocketSubscriptionRequest {
  key: string;
  userId: string;
  type: string;
  version: string;
  condition: Record<string, string>;
  scopes: string[];
}

/** Twitch's answer to creating one. */
export interface CreatedWebSocketSubscription {
  subscription: WireEventSubSubscription;
  totalCost: number | null;
  maxTotalCost: number | null;
}

/** What the pool of one user's sockets needs from the transport. */
export interface UserSocketsDeps {
  userId: string;
  /** A new, unconnected connection whose losses and session changes are reported to the given callbacks. */
  openConnection(onLost: (loss: EventSubWebSocketLoss) => void): EventSubWebSocketConnection;
  /** `POST /eventsub/subscriptions` on a session with the user's token. */
  create(request: WebSocketSubscriptionRequest, sessionId: string): Promise<CreatedWebSocketSubscription>;
  /** `DELETE /eventsub/subscriptions` with the user's token. */
  remove(subscriptionId: string): Promise<void>;
  logger: { log(message: string): void; warn(message: string): void; error(message: string): void };
}

/** A subscription live on a socket. */
interface ActiveSubscription {
  request: WebSocketSubscriptionRequest;
  subscription: WireEventSubSubscription;
}

/** One socket and what it carries. */
interface Slot {
  connection: EventSubWebSocketConnection | null;
  subscriptions: Map<string, ActiveSubscription>;
  failures: number;
  retryTimer: NodeJS.Timeout | null;
}

/**
 * The sockets of one user: subscriptions are packed onto as few sockets as
 * Twitch's limits allow (300 each, at most 3), a socket is opened only with
 * a subscription ready to create (so Twitch never closes one unused, 4003),
 * and a lost socket is reopened with backoff and its subscriptions created
 * again. Operations run one at a time, so counts cannot race.
 */
export class EventSubUserSockets {
  private readonly slots: Slot[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private totalCost = 0;
  private maxTotalCost: number = EVENTSUB_WEBSOCKET_LIMITS.maxTotalCost;
  private closed = false;

  constructor(private readonly deps: UserSocketsDeps) {}

  /** Creates the subscription on a socket with room (opening one when needed), or returns it when it is live already. */
  subscribe(request: WebSocketSubscriptionRequest): Promise<{ subscription: WireEventSubSubscription; created: boolean }> {
    return this.serially(() => this.subscribeNow(request));
  }

  /** Deletes a live subscription (by Twitch id or stored key); false when none matches. */
  unsubscribe(idOrKey: string): Promise<boolean> {
    return this.serially(async () => {
      const found = this.find(idOrKey);
      if (!found) return false;
      await this.deps.remove(found.active.subscription.id);
      this.drop(found.slot, found.active.request.key);
      return true;
    });
  }

  /** Twitch revoked a subscription: it is no longer carried (nothing is sent to Twitch). Returns its key, if it was carried. */
  forget(subscriptionId: string): string | null {
    const found = this.find(subscriptionId);
    if (!found) return null;
    this.drop(found.slot, found.active.request.key);
    return found.active.request.key;
  }

  /** The stored key of a live subscription, by Twitch id. */
  keyOf(subscriptionId: string): string | null {
    return this.find(subscriptionId)?.active.request.key ?? null;
  }

  /** Twitch's id of each live subscription, by stored key. */
  liveKeys(): Map<string, string> {
    return new Map(this.slots.flatMap((slot) => [...slot.subscriptions].map(([key, active]) => [key, active.subscription.id] as const)));
  }

  /** The live subscriptions, as Twitch described them when they were created. */
  subscriptions(): WireEventSubSubscription[] {
    return this.slots.flatMap((slot) => [...slot.subscriptions.values()].map((active) => active.subscription));
  }

  /** The session ids of the open sockets. */
  sessionIds(): string[] {
    return this.slots.map((slot) => slot.connection?.sessionId).filter((id): id is string => typeof id === 'string');
  }

  /** Closes every socket and timer; nothing is re-created afterwards. */
  close(): void {
    this.closed = true;
    for (const slot of this.slots) this.closeSlot(slot);
    this.slots.length = 0;
  }

  private async subscribeNow(request: WebSocketSubscriptionRequest): Promise<{ subscription: WireEventSubSubscription; created: boolean }> {
    if (this.closed) throw new EventSubWebSocketClosedError();
    const existing = this.find(request.key);
    if (existing) return { subscription: existing.active.subscription, created: false };
    const cost = costOf(request);
    if (this.totalCost + cost > this.maxTotalCost) {
      throw new EventSubWebSocketLimitError('total-cost', request.userId, this.totalCost, this.maxTotalCost);
    }
    const perSocket = EVENTSUB_WEBSOCKET_LIMITS.subscriptionsPerSocket;
    let slot = this.slots.find((candidate) => candidate.subscriptions.size < perSocket);
    if (!slot) {
      if (this.slots.length >= EVENTSUB_WEBSOCKET_LIMITS.socketsPerUser) {
        throw new EventSubWebSocketLimitError(
          'sockets-per-user',
          request.userId,
          this.slots.length,
          EVENTSUB_WEBSOCKET_LIMITS.socketsPerUser,
        );
      }
      slot = { connection: null, subscriptions: new Map(), failures: 0, retryTimer: null };
      this.slots.push(slot);
    }
    try {
      const sessionId = await this.sessionOf(slot);
      return { subscription: await this.createOn(slot, request, sessionId), created: true };
    } finally {
      // A socket with nothing on it would be closed by Twitch (4003) and counts for nothing: close it now.
      if (slot.subscriptions.size === 0) this.removeSlot(slot);
    }
  }

  private async sessionOf(slot: Slot): Promise<string> {
    const sessionId = slot.connection?.sessionId;
    if (sessionId) return sessionId;
    slot.connection?.close();
    const connection = this.deps.openConnection((loss) => this.lost(slot, connection, loss));
    slot.connection = connection;
    return connection.connect();
  }

  private async createOn(slot: Slot, request: WebSocketSubscriptionRequest, sessionId: string): Promise<WireEventSubSubscription> {
    const created = await this.deps.create(request, sessionId);
    if (created.maxTotalCost !== null) this.maxTotalCost = created.maxTotalCost;
    this.totalCost = created.totalCost ?? this.totalCost + (created.subscription.cost ?? 0);
    slot.subscriptions.set(request.key, { request, subscription: created.subscription });
    slot.failures = 0;
    return created.subscription;
  }

  private lost(slot: Slot, connection: EventSubWebSocketConnection, loss: EventSubWebSocketLoss): void {
    if (this.closed || slot.connection !== connection) return;
    slot.connection = null;
    const count = slot.subscriptions.size;
    this.deps.logger.warn(
      `EventSub WebSocket of user ${this.deps.userId} lost (${loss.reason}); opening a new one and creating its ${count} subscription(s) again.`,
    );
    this.scheduleReopen(slot);
  }

  private scheduleReopen(slot: Slot): void {
    if (this.closed || slot.retryTimer) return;
    // The first attempt goes at once: a missed keepalive or a Twitch restart is usually over by now.
    const delay = slot.failures === 0 ? 0 : eventSubReconnectDelayMs(slot.failures);
    slot.retryTimer = setTimeout(() => {
      slot.retryTimer = null;
      void this.serially(() => this.reopen(slot)).catch(() => undefined);
    }, delay);
  }

  /** Opens a new socket for a lost one and creates its subscriptions on it again. */
  private async reopen(slot: Slot): Promise<void> {
    if (this.closed || !this.slots.includes(slot)) return;
    const wanted = [...slot.subscriptions.values()];
    let sessionId: string;
    try {
      sessionId = await this.sessionOf(slot);
    } catch (error) {
      slot.failures++;
      this.deps.logger.warn(`Could not reopen the EventSub WebSocket of user ${this.deps.userId}: ${errorMessage(error)}`);
      this.scheduleReopen(slot);
      return;
    }
    slot.subscriptions.clear();
    let failed = 0;
    for (const { request, subscription } of wanted) {
      try {
        this.totalCost = Math.max(0, this.totalCost - (subscription.cost ?? 0));
        await this.createOn(slot, request, sessionId);
      } catch (error) {
        failed++;
        this.deps.logger.error(
          `Could not create EventSub ${request.type} v${request.version} for user ${this.deps.userId} again on the new socket: ${errorMessage(error)}`,
        );
      }
    }
    if (slot.subscriptions.size === 0) this.removeSlot(slot);
    this.deps.logger.log(
      `EventSub WebSocket of user ${this.deps.userId} is back: ${wanted.length - failed} of ${wanted.length} subscription(s) created again.`,
    );
  }

  private find(idOrKey: string): { slot: Slot; active: ActiveSubscription } | null {
    for (const slot of this.slots) {
      const byKey = slot.subscriptions.get(idOrKey);
      if (byKey) return { slot, active: byKey };
      for (const active of slot.subscriptions.values()) if (active.subscription.id === idOrKey) return { slot, active };
    }
    return null;
  }

  private drop(slot: Slot, key: string): void {
    const active = slot.subscriptions.get(key);
    if (!active) return;
    slot.subscriptions.delete(key);
    this.totalCost = Math.max(0, this.totalCost - (active.subscription.cost ?? 0));
    if (slot.subscriptions.size === 0) this.removeSlot(slot);
  }

  private removeSlot(slot: Slot): void {
    this.closeSlot(slot);
    const index = this.slots.indexOf(slot);
    if (index !== -1) this.slots.splice(index, 1);
  }

  private closeSlot(slot: Slot): void {
    if (slot.retryTimer) clearTimeout(slot.retryTimer);
    slot.retryTimer = null;
    slot.connection?.close();
    slot.connection = null;
  }

  private serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/**
 * What Twitch will charge: nothing when the condition names the token's user
 * (they authorized the app), else 1. Only used to refuse early; Twitch's
 * `total_cost` replaces the count after each answer.
 */
function costOf(request: WebSocketSubscriptionRequest): number {
  return Object.values(request.condition).includes(request.userId) ? 0 : 1;
}
