import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TwitchAuthEvent, type EventSubNotification, type EventSubRevocation } from '../twitch-auth/index.js';

/**
 * The demo's EventSub listener: one log line per message received, naming
 * its type and message id. Never the event itself: payloads carry user data
 * the log has no need for.
 */
@Injectable()
export class EventSubLogListener {
  private readonly logger = new Logger('DemoEventSub');

  /** Every verified notification, whatever its type. */
  @OnEvent(TwitchAuthEvent.EventSubNotification)
  onNotification(notification: EventSubNotification): void {
    this.logger.log(`EventSub notification ${notification.subscription.type} (message ${notification.messageId}).`);
  }

  /** Twitch stopped a subscription. */
  @OnEvent(TwitchAuthEvent.EventSubRevocation)
  onRevocation(revocation: EventSubRevocation): void {
    this.logger.warn(
      `EventSub subscription ${revocation.subscription.type} revoked: ${revocation.reason} (message ${revocation.messageId}).`,
    );
  }
}
