import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TWITCH_AUTH_RESOLVED_OPTIONS } from '../twitch-auth.constants.js';
import type { ResolvedTwitchAuthOptions } from '../twitch-auth.options.js';
import { TwitchApiClient } from '../helix/twitch-api.client.js';
import { TokenService } from '../tokens/token.service.js';
import { helixFailure } from '../twitch/helix.client.js';
import { TwitchRateLimitError } from '../twitch/twitch.errors.js';
import type { WireEventSubSubscription, WireEventSubSubscriptionList } from '../twitch/eventsub-wire.types.js';
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
import {
  EVENTSUB_WEBSOCKET_LIMITS,
  EventSubUserSockets,
  type CreatedWebSocketSubscription,
  type WebSocketSubscriptionRequest,
} from './eventsub-websocket.user-sockets.js';
import { EventSubWebSocketLimitError } from './eventsub-websocket.errors.js';
import { eventSubScopes } from './eventsub.scopes.js';
import { toEventSubSubscription } from './eventsub.converters.js';
import { EventSubSubscriptionError } from './eventsub.errors.js';
import type { EventSubSubscription, EventSubSubscriptionSpec } from './eventsub.types.js';

/**
 * The EventSub WebSocket transport: sockets per user (`EventSubUserSockets`),
 * subscriptions created with the user's token through `TwitchApiClient`
 * (scopes checked first, a 401 refreshed once through `TokenService`), the
 * desired subscriptions kept in `EventSubSubscriptionStore` and created again
 * at boot, and every message handed, after the shared de-duplication, to the
 * same `EventSubDispatcher` as webhooks.
 */
@Injectable()
export class EventSubWebSocketTransport implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TwitchAuth');
  private readonly users = new Map<string, EventSubUserSockets>();
  private closed = false;
  private readonly onMessage = (delivery: EventSubWebSocketDelivery) => void this.delivery.deliver(delivery, this.onRevoked);
  private readonly onRevoked = (subscriptionId: unknown) => this.revoked(subscriptionId);

  /** Built by Nest's injector. @internal */
  constructor(
    private readonly api: TwitchApiClient,
    private readonly tokens: TokenService,
    @Inject(EventSubSubscriptionStore) private readonly store: EventSubSubscriptionStore,
    private readonly delivery: EventSubSocketDelivery,
    @Inject(TWITCH_AUTH_RESOLVED_OPTIONS) private readonly options: ResolvedTwitchAuthOptions,
  ) {}

  /**
   * Creates (or finds live) the subscription on one of the user's sockets and
   * stores it, so a restart creates it again. Throws `MissingScopesError`
   * before anything is sent, `EventSubWebSocketLimitError` past Twitch's limits.
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
    const outcome = await this.sockets(userId).subscribe(request);
    if (outcome.created) {
      await this.store.save({ ...request, createdAt: new Date() });
      this.logger.log(
        `Subscribed to EventSub ${spec.type} v${spec.version} over the WebSocket of user ${userId} (${outcome.subscription.id}).`,
      );
    }
    return { subscription: toEventSubSubscription(outcome.subscription), created: outcome.created };
  }

  /** Deletes a WebSocket subscription by Twitch id and forgets it; false when no socket of this instance carries it. */
  async unsubscribe(id: string): Promise<boolean> {
    for (const sockets of this.users.values()) {
      const key = sockets.keyOf(id);
      if (key === null) continue;
      await sockets.unsubscribe(id);
      await this.store.delete(key);
      return true;
    }
    return false;
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

  /** Starts creating the stored subscriptions again (unless `restoreAtBoot` is false), without holding up the app's start. */
  onApplicationBootstrap(): void {
    if (!this.options.eventSubWebSocket.restoreAtBoot) return;
    void this.restore().catch((error) =>
      this.logger.error(`Could not read the stored EventSub WebSocket subscriptions: ${describe(error)}`),
    );
  }

  /** Closes every socket and timer. */
  onApplicationShutdown(): void {
    this.closed = true;
    for (const sockets of this.users.values()) sockets.close();
    this.users.clear();
  }

  private async restore(): Promise<void> {
    const stored = await this.store.list();
    if (stored.length === 0 || this.closed) return;
    const byUser = new Map<string, StoredEventSubSubscription[]>();
    for (const row of stored) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), row]);
    this.logger.log(
      `Creating ${stored.length} stored EventSub WebSocket subscription(s) of ${byUser.size} user(s) again. ` +
        'Every instance sharing this storage with eventSub.webSocket.restoreAtBoot on does the same and opens its own sockets: ' +
        'leave it on for one instance only (see "Several instances" in docs/eventsub.md).',
    );
    await Promise.all(
      [...byUser].map(async ([userId, rows]) => {
        for (const row of rows) {
          if (this.closed) return;
          try {
            await this.subscribe(userId, { type: row.type, version: row.version, condition: row.condition, scopes: row.scopes });
          } catch (error) {
            this.logger.error(
              `Could not create the stored EventSub ${row.type} v${row.version} for user ${userId} again: ${describe(error)}`,
            );
          }
        }
      }),
    );
  }

  private sockets(userId: string): EventSubUserSockets {
    let sockets = this.users.get(userId);
    if (!sockets) {
      sockets = new EventSubUserSockets({
        userId,
        openConnection: (onLost) => this.connection(onLost),
        create: (request, sessionId) => this.create(request, sessionId),
        remove: (subscriptionId) => this.remove(userId, subscriptionId),
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

  private async create(request: WebSocketSubscriptionRequest, sessionId: string): Promise<CreatedWebSocketSubscription> {
    const json = {
      type: request.type,
      version: request.version,
      condition: request.condition,
      transport: { method: 'websocket', session_id: sessionId },
    };
    const call = 'POST /eventsub/subscriptions';
    const answer = await this.api
      .request<WireEventSubSubscriptionList>('POST', '/eventsub/subscriptions', {
        auth: { userId: request.userId },
        scopes: request.scopes,
        json,
        // A repeat after a lost answer gets 409, which is handled below.
        idempotent: true,
      })
      .catch((error: unknown) => {
        throw twitchLimitError(error, request.userId) ?? error;
      });
    if (answer.status === 202 && Array.isArray(answer.body?.data) && answer.body.data[0]) {
      return {
        subscription: answer.body.data[0],
        totalCost: answer.body.total_cost ?? null,
        maxTotalCost: answer.body.max_total_cost ?? null,
      };
    }
    if (answer.status === 409) return { subscription: await this.findExisting(request, sessionId), totalCost: null, maxTotalCost: null };
    throw helixFailure(answer, call);
  }

  /** After a 409: the same subscription on this session (an earlier attempt whose answer was lost). */
  private async findExisting(request: WebSocketSubscriptionRequest, sessionId: string): Promise<WireEventSubSubscription> {
    for await (const subscription of this.api.paginate<WireEventSubSubscription>('/eventsub/subscriptions', {
      auth: { userId: request.userId },
      query: { type: request.type },
    })) {
      const sameKey = eventSubSubscriptionKey(request.userId, subscription.type, subscription.version, subscription.condition ?? {});
      if (sameKey === request.key && subscription.transport?.session_id === sessionId) return subscription;
    }
    throw new EventSubSubscriptionError(
      `Twitch says the ${request.type} v${request.version} subscription of user ${request.userId} already exists (409) on another WebSocket ` +
        '(another instance or process of this app?): unsubscribe it there, or wait until that socket closes.',
    );
  }

  private async remove(userId: string, subscriptionId: string): Promise<void> {
    const answer = await this.api.request('DELETE', '/eventsub/subscriptions', { auth: { userId }, query: { id: subscriptionId } });
    if (answer.status !== 204 && answer.status !== 404) throw helixFailure(answer, 'DELETE /eventsub/subscriptions');
  }

  /** Twitch stopped a subscription for good (grant revoked, user removed, version removed): do not create it again. */
  private async revoked(subscriptionId: unknown): Promise<void> {
    if (typeof subscriptionId !== 'string') return;
    for (const sockets of this.users.values()) {
      const key = sockets.forget(subscriptionId);
      if (key === null) continue;
      await this.store
        .delete(key)
        .catch((error) => this.logger.error(`Could not forget a revoked EventSub subscription: ${describe(error)}`));
      return;
    }
  }
}

/**
 * Twitch's 429 for a WebSocket limit the local counts could not see (sockets
 * held by another process of this app), as the same error the local checks throw.
 */
function twitchLimitError(error: unknown, userId: string): EventSubWebSocketLimitError | null {
  if (!(error instanceof TwitchRateLimitError)) return null;
  const said = (error.twitchMessage ?? '').toLowerCase();
  const limits = EVENTSUB_WEBSOCKET_LIMITS;
  if (said.includes('transports limit'))
    return new EventSubWebSocketLimitError('sockets-per-user', userId, limits.socketsPerUser, limits.socketsPerUser);
  if (said.includes('per websocket')) {
    return new EventSubWebSocketLimitError(
      'subscriptions-per-socket',
      userId,
      limits.subscriptionsPerSocket,
      limits.subscriptionsPerSocket,
    );
  }
  if (said.includes('cost')) return new EventSubWebSocketLimitError('total-cost', userId, limits.maxTotalCost, limits.maxTotalCost);
  return null;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
