import { Injectable, Logger } from '@nestjs/common';
import { EventSubDeduplicator } from './eventsub-deduplicator.js';
import { EventSubDispatcher } from './eventsub-dispatcher.js';
import { USER_AUTHORIZATION_REVOKE } from './eventsub-token-revoker.js';
import type { EventSubWebSocketDelivery } from './eventsub-websocket.connection.js';

/**
 * Hands a message that arrived over a conduit shard's socket to the one
 * dispatcher, once: the message id is claimed in the shared `ClaimStore`
 * first, so a message Twitch redelivers to another shard (another socket,
 * maybe another process) after a shard went down is dispatched by whichever
 * got it first.
 */
@Injectable()
export class EventSubSocketDelivery {
  private readonly logger = new Logger('TwitchAuth');

  constructor(
    private readonly deduplicator: EventSubDeduplicator,
    private readonly dispatcher: EventSubDispatcher,
  ) {}

  /** De-duplicates and dispatches; never rejects (failures are logged). */
  async deliver(delivery: EventSubWebSocketDelivery): Promise<void> {
    let first = true;
    try {
      first = await this.deduplicator.firstDelivery(delivery.messageId);
    } catch (error) {
      // A socket message is never sent again: dispatching it (maybe twice) beats losing it, as for per-user sockets.
      this.logger.warn(
        `Could not record EventSub message ${delivery.messageId} as delivered; dispatching it anyway: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (!first) return;
    const meta = { messageId: delivery.messageId, timestamp: delivery.timestamp, transport: delivery.transport };
    if (delivery.kind === 'revocation') return this.dispatcher.dispatchRevocation(delivery.body, meta);
    const audience = this.dispatcher.notificationAudience(delivery.body);
    if (audience === null && delivery.body.subscription.type !== USER_AUTHORIZATION_REVOKE) return;
    return this.dispatcher.dispatchNotification(delivery.body, meta, audience);
  }
}
