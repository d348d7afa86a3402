import { Injectable, Logger } from '@nestjs/common';
import { TwitchAuthEvent, TwitchAuthEventPublisher, eventSubEventName } from '../twitch-auth.events.js';
import type { WireEventSubNotificationBody, WireEventSubRevocationBody } from '../twitch/eventsub-wire.types.js';
import { toEventSubEvent, toEventSubSubscription } from './eventsub.converters.js';
import type { EventSubNotification, EventSubRevocation } from './eventsub.types.js';

const RESERVED_NAMES: ReadonlySet<string> = new Set([TwitchAuthEvent.EventSubNotification, TwitchAuthEvent.EventSubRevocation]);

/** The headers of a verified message that its payload repeats. */
export interface EventSubMessageMeta {
  messageId: string;
  timestamp: string;
}

/**
 * Turns verified EventSub messages into `twitch.eventsub.*` events. Listeners
 * are awaited, and a listener that throws or rejects is logged by the
 * publisher instead of becoming an unhandled rejection. Never rejects.
 */
@Injectable()
export class EventSubDispatcher {
  private readonly logger = new Logger('TwitchAuth');

  constructor(private readonly events: TwitchAuthEventPublisher) {}

  /** Whether `dispatchNotification` would emit anything for this message: someone listens to it. */
  wouldDispatchNotification(body: WireEventSubNotificationBody): boolean {
    const type = typeof body.subscription?.type === 'string' ? body.subscription.type : '';
    return this.events.hasListeners(TwitchAuthEvent.EventSubNotification) || this.events.hasListeners(eventSubEventName(type));
  }

  /** Emits `twitch.eventsub.notification` and `twitch.eventsub.<type>` with one shared payload. */
  async dispatchNotification(body: WireEventSubNotificationBody, meta: EventSubMessageMeta): Promise<void> {
    if (!this.wouldDispatchNotification(body)) return;
    let payload: EventSubNotification;
    try {
      const subscription = toEventSubSubscription(body.subscription);
      payload = {
        subscription,
        event: toEventSubEvent(subscription.type, body.event),
        messageId: meta.messageId,
        timestamp: meta.timestamp,
        rawEvent: body.event,
      };
    } catch (error) {
      this.logger.error(`EventSub message ${meta.messageId} could not be read: ${describe(error)}`);
      return;
    }
    const typedName = eventSubEventName(payload.subscription.type);
    const emits: Promise<void>[] = [];
    if (this.events.hasListeners(TwitchAuthEvent.EventSubNotification))
      emits.push(this.emit(TwitchAuthEvent.EventSubNotification, payload));
    // A type whose event name is one of the module's own would be announced twice under it.
    if (!RESERVED_NAMES.has(typedName) && this.events.hasListeners(typedName)) emits.push(this.emit(typedName, payload));
    await Promise.all(emits);
  }

  /** Emits `twitch.eventsub.revocation`. */
  async dispatchRevocation(body: WireEventSubRevocationBody, meta: EventSubMessageMeta): Promise<void> {
    let payload: EventSubRevocation;
    try {
      const subscription = toEventSubSubscription(body.subscription);
      payload = { subscription, reason: subscription.status, messageId: meta.messageId, timestamp: meta.timestamp };
    } catch (error) {
      this.logger.error(`EventSub message ${meta.messageId} could not be read: ${describe(error)}`);
      return;
    }
    this.logger.warn(`Twitch revoked EventSub subscription ${payload.subscription.id} (${payload.subscription.type}): ${payload.reason}.`);
    await this.emit(TwitchAuthEvent.EventSubRevocation, payload);
  }

  private emit(name: string, payload: unknown): Promise<void> {
    return this.events.emitAndWait(name, payload);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
