import { Injectable, Logger, Optional } from '@nestjs/common';
import { TwitchAuthMetrics } from '../metrics/twitch-auth.metrics.js';
import { EventSubDeduplicator } from './eventsub-deduplicator.js';
import { EventSubDispatcher } from './eventsub-dispatcher.js';
import { USER_AUTHORIZATION_REVOKE } from './eventsub-token-revoker.js';
import type { EventSubWebSocketDelivery } from './eventsub-websocket.connection.js';

/**
 * Hands a message that arrived over a socket (a user's WebSocket or a conduit
 * shard) to the one dispatcher, once: the message id is claimed in the shared
 * `ClaimStore` first, so a message Twitch sends again (across a reconnect, or
 * to another shard, maybe in another process, after a shard went down) is
 * dispatched by whichever socket got it first.
 */
@Injectable()
export class EventSubSocketDelivery {
  private readonly logger = new Logger('TwitchAuth');

  constructor(
    private readonly deduplicator: EventSubDeduplicator,
    private readonly dispatcher: EventSubDispatcher,
    @Optional() private readonly metrics: TwitchAuthMetrics = TwitchAuthMetrics.disabled,
  ) {}

  /**
   * De-duplicates and dispatches; never rejects (failures are logged).
   * `beforeRevocation` runs once for a first-seen revocation, before its event.
   */
  async deliver(delivery: EventSubWebSocketDelivery, beforeRevocation?: (subscriptionId: unknown) => Promise<void>): Promise<void> {
    let first = true;
    try {
      first = await this.deduplicator.firstDelivery(delivery.messageId);
    } catch (error) {
      // A socket message is never sent again: dispatching it (maybe twice) beats losing it.
      this.logger.warn(
        `Could not record EventSub message ${delivery.messageId} as delivered; dispatching it anyway: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    this.metrics.eventSubMessage(delivery.transport, first ? 'dispatched' : 'duplicate');
    if (!first) return;
    const meta = { messageId: delivery.messageId, timestamp: delivery.timestamp, transport: delivery.transport };
    if (delivery.kind === 'revocation') {
      await beforeRevocation?.(delivery.body.subscription?.id);
      return this.dispatcher.dispatchRevocation(delivery.body, meta);
    }
    const audience = this.dispatcher.notificationAudience(delivery.body);
    if (audience === null && delivery.body.subscription.type !== USER_AUTHORIZATION_REVOKE) return;
    return this.dispatcher.dispatchNotification(delivery.body, meta, audience);
  }
}
