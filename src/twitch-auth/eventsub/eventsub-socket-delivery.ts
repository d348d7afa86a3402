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
   * With a store that answers at once (the in-memory one) nothing here waits
   * before the listeners run: one message costs no promise of its own.
   */
  deliver(delivery: EventSubWebSocketDelivery, beforeRevocation?: (subscriptionId: unknown) => Promise<void>): Promise<void> {
    let first: boolean | Promise<boolean>;
    try {
      first = this.deduplicator.firstDelivery(delivery.messageId);
    } catch (error) {
      return this.unrecorded(delivery, error, beforeRevocation);
    }
    if (typeof first === 'boolean') return this.claimed(delivery, first, beforeRevocation);
    return first.then(
      (isFirst) => this.claimed(delivery, isFirst, beforeRevocation),
      (error: unknown) => this.unrecorded(delivery, error, beforeRevocation),
    );
  }

  private unrecorded(
    delivery: EventSubWebSocketDelivery,
    error: unknown,
    beforeRevocation: ((subscriptionId: unknown) => Promise<void>) | undefined,
  ): Promise<void> {
    // A socket message is never sent again: dispatching it (maybe twice) beats losing it.
    this.logger.warn(
      `Could not record EventSub message ${delivery.messageId} as delivered; dispatching it anyway: ${error instanceof Error ? error.message : String(error)}`,
    );
    return this.claimed(delivery, true, beforeRevocation);
  }

  private claimed(
    delivery: EventSubWebSocketDelivery,
    first: boolean,
    beforeRevocation: ((subscriptionId: unknown) => Promise<void>) | undefined,
  ): Promise<void> {
    this.metrics.eventSubMessage(delivery.transport, first ? 'dispatched' : 'duplicate');
    if (!first) return DONE;
    // The delivery carries the message's id, timestamp and transport: it is the meta, no copy needed.
    if (delivery.kind === 'revocation') return this.revoked(delivery, beforeRevocation);
    const audience = this.dispatcher.notificationAudience(delivery.body);
    if (audience === null && delivery.body.subscription.type !== USER_AUTHORIZATION_REVOKE) return DONE;
    return this.dispatcher.dispatchNotification(delivery.body, delivery, audience);
  }

  private async revoked(
    delivery: EventSubWebSocketDelivery & { kind: 'revocation' },
    beforeRevocation: ((subscriptionId: unknown) => Promise<void>) | undefined,
  ): Promise<void> {
    await beforeRevocation?.(delivery.body.subscription?.id);
    return this.dispatcher.dispatchRevocation(delivery.body, delivery);
  }
}

const DONE: Promise<void> = Promise.resolve();
