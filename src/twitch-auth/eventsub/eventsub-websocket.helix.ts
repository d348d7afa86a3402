import type { TwitchApiClient } from '../helix/twitch-api.client.js';
import { helixFailure } from '../twitch/helix.client.js';
import { TwitchRateLimitError } from '../twitch/twitch.errors.js';
import type { WireEventSubSubscription, WireEventSubSubscriptionList } from '../twitch/eventsub-wire.types.js';
import { eventSubSubscriptionKey } from '../storage/eventsub-subscription-store.interface.js';
import { EventSubWebSocketLimitError } from './eventsub-websocket.errors.js';
import {
  EVENTSUB_WEBSOCKET_LIMITS,
  type CreatedWebSocketSubscription,
  type WebSocketSubscriptionRequest,
} from './eventsub-websocket.user-sockets.js';
import { EventSubSubscriptionError } from './eventsub.errors.js';

/**
 * Helix calls of the WebSocket transport, with the user's token through
 * `TwitchApiClient` (scopes checked first, a 401 refreshed once).
 */
export class WebSocketSubscriptionHelix {
  constructor(private readonly api: TwitchApiClient) {}

  /** `POST /eventsub/subscriptions` on a session; a 409 for this very session (a lost answer) finds the existing one. */
  async create(request: WebSocketSubscriptionRequest, sessionId: string): Promise<CreatedWebSocketSubscription> {
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

  /** `DELETE /eventsub/subscriptions`; a 404 (already gone) counts as done. */
  async remove(userId: string, subscriptionId: string): Promise<void> {
    const answer = await this.api.request('DELETE', '/eventsub/subscriptions', { auth: { userId }, query: { id: subscriptionId } });
    if (answer.status !== 204 && answer.status !== 404) throw helixFailure(answer, 'DELETE /eventsub/subscriptions');
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
