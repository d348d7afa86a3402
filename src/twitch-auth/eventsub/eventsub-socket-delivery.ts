import { Injectable, Logger } from '@nestjs/common';
import { EventSubDeduplicator } from './eventsub-deduplicator.js';
import { EventSubDispatcher } from './eventsub-dispatcher.js';
import type { EventSubWebSocketDelivery } from './eventsub-websocket.connection.js';

/**
 * Hands a message that arrived over a socket to the one dispatcher, once:
 * the message id is claimed in the shared `ClaimStore` first, so a message
 * Twitch redelivers to another shard (another socket, maybe another
 * process) after a shard went down is dispatched by whichever got it first.
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
    try {
      if (!(await this.deduplicator.firstDelivery(delivery.messageId))) return;
    } catch (error) {
      this.logger.error(
        `Could not record EventSub message ${delivery.messageId} as delivered, so it is not dispatched: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const meta = { messageId: delivery.messageId, timestamp: delivery.timestamp };
    if (delivery.kind === 'revocation') return this.dispatcher.dispatchRevocation(delivery.body, meta);
    return this.dispatcher.dispatchNotification(delivery.body, meta, this.dispatcher.notificationAudience(delivery.body));
  }
}
