import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { TwitchApiClient } from '../helix/twitch-api.client.js';
import { TokenService } from '../tokens/token.service.js';
import { EventSubSocketLeaseStore } from '../storage/eventsub-socket-lease-store.interface.js';
import { InMemoryEventSubSocketLeaseStore } from '../storage/in-memory-eventsub-socket-lease.store.js';
import {
  EventSubSubscriptionStore,
  eventSubSubscriptionKey,
  type StoredEventSubSubscription,
} from '../storage/eventsub-subscription-store.interface.js';
import { EventSubSocketDelivery } from './eventsub-socket-delivery.js';
import {
  EventSubWebSocketConnection,
  type EventSubWebSocketDelivery,
  type EventSubWebSocketLoss,
} from './eventsub-websocket.connection.js';
import { WebSocketSubscriptionHelix } from './eventsub-websocket.helix.js';
import { EventSubWebSocketLeases, type EventSubWebSocketStatus } from './eventsub-websocket.leases.js';
import { WebSocketSubscriptionReconciler } from './eventsub-websocket.reconciler.js';
import { EventSubUserSockets, type WebSocketSubscriptionRequest } from './eventsub-websocket.user-sockets.js';
import { eventSubScopes } from './eventsub.scopes.js';
import { toEventSubSubscription } from './eventsub.converters.js';
import { EVENTSUB_WEBSOCKET_PENDING_STATUS, type EventSubSubscription, type EventSubSubscriptionSpec } from './eventsub.types.js';
import { errorMessage } from './eventsub-background.js';

/**
 * The EventSub WebSocket transport: sockets per user (`EventSubUserSockets`),
 * subscriptions created with the user's token through `TwitchApiClient`
 * (scopes checked first, a 401 refreshed once through `TokenService`), the
 * desired subscriptions kept in `EventSubSubscriptionStore`, and every
 * message handed, after the shared de-duplication, to the same
 * `EventSubDispatcher` as webhooks. One instance at a time opens a user's
 * sockets, under a lease (`EventSubWebSocketLeases`): it creates the user's
 * stored subscriptions, and an instance that dies is replaced once its
 * leases lapse.
 */
@Injectable()
export class EventSubWebSocketTransport implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('TwitchAuth');
  private readonly users = new Map<string, EventSubUserSockets>();
  /** Per user, the tail of the work on its sockets and stored rows, so a round never acts on half of a subscribe. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly helix: WebSocketSubscriptionHelix;
  private readonly leases: EventSubWebSocketLeases;
  private readonly reconciler: WebSocketSubscriptionReconciler;
  private closed = false;
  private readonly onMessage = (delivery: EventSubWebSocketDelivery) => void this.delivery.deliver(delivery, this.onRevoked);
  private readonly onRevoked = (subscriptionId: unknown) => this.revoked(subscriptionId);

  /** Built by Nest's injector. @internal */
  constructor(
    api: TwitchApiClient,
    private readonly tokens: TokenService,
    @Inject(EventSubSubscriptionStore) private readonly store: EventSubSubscriptionStore,
    @Inject(EventSubSocketLeaseStore) leaseStore: EventSubSocketLeaseStore,
    private readonly delivery: EventSubSocketDelivery,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
  ) {
    this.helix = new WebSocketSubscriptionHelix(api);
    const { leaseSeconds, renewSeconds, restoreAtBoot } = options.eventSubWebSocket;
    this.leases = new EventSubWebSocketLeases({
      leases: leaseStore,
      subscriptions: store,
      host: {
        localUsers: () => [...this.users.keys()],
        drop: (userId, why) => this.drop(userId, why),
        reconcile: (userId, rows) => this.withUser(userId, () => this.reconciler.reconcile(userId, rows)),
      },
      leaseSeconds,
      renewSeconds,
      takeUsers: restoreAtBoot,
      shared: !(leaseStore instanceof InMemoryEventSubSocketLeaseStore),
      logger: this.logger,
    });
    this.reconciler = new WebSocketSubscriptionReconciler({
      store,
      tokens,
      holds: (userId) => !this.closed && this.leases.holds(userId),
      sockets: (userId) => this.sockets(userId),
      drop: (userId) => this.drop(userId, null),
      renewSeconds,
      logger: this.logger,
    });
  }

  /**
   * Stores the subscription and, when this instance holds the user's sockets
   * (or takes them, being free), creates it on one of them (or finds it
   * live). Otherwise the instance holding them creates it at its next round
   * and the answer has status `EVENTSUB_WEBSOCKET_PENDING_STATUS`. Throws
   * `MissingScopesError` before anything is sent, `EventSubWebSocketLimitError` past Twitch's limits.
   */
  async subscribe(userId: string, spec: EventSubSubscriptionSpec): Promise<{ subscription: EventSubSubscription; created: boolean }> {
    const request: WebSocketSubscriptionRequest = {
      key: eventSubSubscriptionKey(userId, spec.type, spec.version, spec.condition),
      userId,
      type: spec.type,
      version: spec.version,
      condition: { ...spec.condition },
      scopes: eventSubScopes(spec.type, spec.version, spec.scopes),
    };
    // Before any socket is opened: a missing scope or grant is the caller's to fix, and costs Twitch nothing.
    await this.tokens.getUserToken(userId, request.scopes);
    const wasHeld = this.leases.holds(userId);
    const outcome = await this.leases.pinnedWhile(userId, () =>
      this.withUser(userId, async () => {
        if (!(await this.leases.acquire(userId))) return this.storeForOtherInstance(request);
        const live = await this.sockets(userId).subscribe(request);
        if (live.created) {
          await this.store.save({ ...request, createdAt: new Date(), subscriptionId: live.subscription.id });
          this.logger.log(
            `Subscribed to EventSub ${spec.type} v${spec.version} over the WebSocket of user ${userId} (${live.subscription.id}).`,
          );
        }
        return { subscription: toEventSubSubscription(live.subscription), created: live.created };
      }),
    );
    // A user just taken (free, or its holder gone) may have other stored subscriptions: create them too.
    if (!wasHeld && this.leases.holds(userId)) void this.reconcileStored(userId);
    return outcome;
  }

  /**
   * Deletes a WebSocket subscription (by Twitch id or stored key) and
   * forgets it. When another instance holds the user's sockets, the stored
   * row is removed here and that instance deletes it at Twitch at its next
   * round. False when no stored or live subscription matches.
   */
  async unsubscribe(id: string): Promise<boolean> {
    for (const [userId, sockets] of this.users) {
      if (sockets.keyOf(id) === null) continue;
      return this.withUser(userId, async () => {
        const key = sockets.keyOf(id);
        if (key === null) return false;
        await sockets.unsubscribe(id);
        await this.store.delete(key);
        return true;
      });
    }
    const row = (await this.store.list()).find((candidate) => candidate.subscriptionId === id || candidate.key === id);
    if (!row) return false;
    return this.store.delete(row.key);
  }

  /** The live WebSocket subscriptions of this instance (of one user when given). */
  list(userId?: string): EventSubSubscription[] {
    const pools = userId === undefined ? [...this.users.values()] : [this.users.get(userId)].filter((pool) => pool !== undefined);
    return pools.flatMap((pool) => pool.subscriptions().map(toEventSubSubscription));
  }

  /** The session ids of a user's open sockets (at most 3). */
  sessionIds(userId: string): string[] {
    return this.users.get(userId)?.sessionIds() ?? [];
  }

  /** Which users' sockets this instance holds, for health checks and dashboards. */
  status(): EventSubWebSocketStatus {
    return this.leases.status();
  }

  /** Runs one lease round now (renew, take or hand back users, reconcile); resolves when it is done. */
  runRound(): Promise<void> {
    return this.leases.runRound();
  }

  /** Starts the lease rounds, without holding up the app's start; the first takes users and creates their stored subscriptions. */
  onApplicationBootstrap(): void {
    this.leases.start();
  }

  /** Closes every socket and hands every user back at once, while the database is still there. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.leases.stop();
  }

  /** Closes every socket and timer. */
  onApplicationShutdown(): void {
    this.closed = true;
    for (const sockets of this.users.values()) sockets.close();
    this.users.clear();
  }

  /** Another instance holds the user's sockets: store the wish for it and say so. */
  private async storeForOtherInstance(
    request: WebSocketSubscriptionRequest,
  ): Promise<{ subscription: EventSubSubscription; created: boolean }> {
    const existing = (await this.store.list(request.userId)).find((row) => row.key === request.key);
    const row: StoredEventSubSubscription = existing ?? { ...request, createdAt: new Date(), subscriptionId: null };
    if (!existing) {
      await this.store.save(row);
      this.logger.log(
        `Stored EventSub ${request.type} v${request.version} for user ${request.userId}; another instance holds the user's ` +
          `WebSocket sockets and creates it within ${this.options.eventSubWebSocket.renewSeconds} s.`,
      );
    }
    return { subscription: pending(row), created: !existing };
  }

  private async reconcileStored(userId: string): Promise<void> {
    try {
      const rows = await this.store.list(userId);
      await this.withUser(userId, () => this.reconciler.reconcile(userId, rows));
    } catch (error) {
      this.logger.error(`Could not create the stored EventSub WebSocket subscriptions of user ${userId}: ${errorMessage(error)}`);
    }
  }

  private drop(userId: string, why: string | null): void {
    const sockets = this.users.get(userId);
    if (!sockets) return;
    sockets.close();
    this.users.delete(userId);
    if (why !== null) this.logger.log(`Closed the EventSub WebSocket sockets of user ${userId}: ${why}.`);
  }

  private sockets(userId: string): EventSubUserSockets {
    let sockets = this.users.get(userId);
    if (!sockets) {
      sockets = new EventSubUserSockets({
        userId,
        openConnection: (onLost) => this.connection(onLost),
        create: (request, sessionId) => this.helix.create(request, sessionId),
        remove: (subscriptionId) => this.helix.remove(userId, subscriptionId),
        logger: this.logger,
      });
      this.users.set(userId, sockets);
    }
    return sockets;
  }

  private connection(onLost: (loss: EventSubWebSocketLoss) => void): EventSubWebSocketConnection {
    const { keepaliveTimeoutSeconds, maxMessageAgeSeconds } = this.options.eventSubWebSocket;
    return new EventSubWebSocketConnection({
      url: this.options.twitch.eventSubWebSocketUrl,
      keepaliveTimeoutSeconds,
      maxMessageAgeMs: maxMessageAgeSeconds * 1000,
      transport: 'websocket',
      // Every message is claimed in the ClaimStore, which also catches repeats across a reconnect.
      dropRepeats: false,
      onMessage: this.onMessage,
      onLost,
      logger: this.logger,
    });
  }

  /** Twitch stopped a subscription for good (grant revoked, user removed, version removed): do not create it again. */
  private async revoked(subscriptionId: unknown): Promise<void> {
    if (typeof subscriptionId !== 'string') return;
    for (const [userId, sockets] of this.users) {
      if (sockets.keyOf(subscriptionId) === null) continue;
      await this.withUser(userId, async () => {
        const key = sockets.forget(subscriptionId);
        if (key !== null) await this.store.delete(key);
      }).catch((error) => this.logger.error(`Could not forget a revoked EventSub subscription: ${errorMessage(error)}`));
      return;
    }
  }

  private withUser<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(userId) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.locks.set(userId, tail);
    void tail.then(() => {
      if (this.locks.get(userId) === tail) this.locks.delete(userId);
    });
    return result;
  }
}

/** A stored subscription the instance holding the user's sockets has yet to create. */
function pending(row: StoredEventSubSubscription): EventSubSubscription {
  return {
    id: row.subscriptionId ?? row.key,
    status: EVENTSUB_WEBSOCKET_PENDING_STATUS,
    type: row.type,
    version: row.version,
    cost: 0,
    condition: { ...row.condition },
    transport: { method: 'websocket', callback: null, sessionId: null },
    createdAt: row.createdAt,
  };
}
