import { Injectable, Logger } from '@nestjs/common';
import { TwitchAuthEvent, TwitchAuthEventPublisher, eventSubEventName } from '../twitch-auth.events.js';
import type { WireEventSubNotificationBody, WireEventSubRevocationBody } from '../twitch/eventsub-wire.types.js';
import { toEventSubEvent, toEventSubSubscription } from './eventsub.converters.js';
import { EventSubSubscriptionCache } from './eventsub.subscription-cache.js';
import { EventSubTokenRevoker, USER_AUTHORIZATION_REVOKE } from './eventsub-token-revoker.js';
import type { EventSubNotification, EventSubRevocation, EventSubTransportMethod } from './eventsub.types.js';
import { errorMessage } from './eventsub-background.js';

const RESERVED_NAMES: ReadonlySet<string> = new Set([TwitchAuthEvent.EventSubNotification, TwitchAuthEvent.EventSubRevocation]);
const TYPED_NAME_LIMIT = 1024;

/** Which events a notification goes out as (see `EventSubDispatcher.notificationAudience`). */
export interface NotificationAudience {
  /** `twitch.eventsub.notification` has a listener. */
  toAll: boolean;
  /** `twitch.eventsub.<type>`, when it has a listener. */
  toType: string | null;
}

/** The headers of a verified message that its payload repeats. */
export interface EventSubMessageMeta {
  messageId: string;
  timestamp: string;
  /** Set by the receiver the message came through. */
  transport: EventSubTransportMethod;
}

/**
 * Turns verified EventSub messages into `twitch.eventsub.*` events. Listeners
 * are awaited, and a listener that throws or rejects is logged by the
 * publisher instead of becoming an unhandled rejection. Never rejects.
 */
@Injectable()
export class EventSubDispatcher {
  private readonly logger = new Logger('TwitchAuth');
  private readonly subscriptions = new EventSubSubscriptionCache();
  private readonly typedNames = new Map<string, string | null>();

  constructor(
    private readonly events: TwitchAuthEventPublisher,
    private readonly revoker: EventSubTokenRevoker,
  ) {}

  /**
   * Who listens to a notification: the generic event, and the typed event's
   * name if someone listens to it; null when nobody does, so that nothing is
   * built or scheduled for it.
   */
  notificationAudience(body: WireEventSubNotificationBody): NotificationAudience | null {
    const typedName = this.typedEventName(typeof body.subscription?.type === 'string' ? body.subscription.type : '');
    const toAll = this.events.hasListeners(TwitchAuthEvent.EventSubNotification);
    const toType = typedName !== null && this.events.hasListeners(typedName) ? typedName : null;
    return toAll || toType !== null ? { toAll, toType } : null;
  }

  /**
   * `twitch.eventsub.<type>`, or null for a type whose event name is one of
   * the module's own (it would be announced twice under it). Made once per
   * type: the same string each time is one the emitter's listener lookups
   * have already hashed, where a fresh concatenation per message is not.
   */
  private typedEventName(type: string): string | null {
    let name = this.typedNames.get(type);
    if (name === undefined) {
      const made = eventSubEventName(type);
      name = RESERVED_NAMES.has(made) ? null : made;
      // Types come from Twitch and are few; the bound only guards memory against odd ones.
      if (this.typedNames.size < TYPED_NAME_LIMIT) this.typedNames.set(type, name);
    }
    return name;
  }

  /**
   * Emits `twitch.eventsub.notification` and `twitch.eventsub.<type>` to
   * `audience` (from `notificationAudience`; null: nobody), with one shared
   * payload. A `user.authorization.revoke` first marks the user's token.
   */
  dispatchNotification(
    body: WireEventSubNotificationBody,
    meta: EventSubMessageMeta,
    audience: NotificationAudience | null,
  ): Promise<void> {
    // Before the events: a listener reading the user's token must already see it revoked.
    if (body.subscription.type === USER_AUTHORIZATION_REVOKE) return this.revokeThenDispatch(body, meta, audience);
    return audience === null ? DONE : this.emitNotification(body, meta, audience);
  }

  private async revokeThenDispatch(
    body: WireEventSubNotificationBody,
    meta: EventSubMessageMeta,
    audience: NotificationAudience | null,
  ): Promise<void> {
    await this.revoker.notification(body, meta.timestamp);
    if (audience !== null) return this.emitNotification(body, meta, audience);
  }

  /** Not async: with nothing to wait for first, the listeners' promise is handed back as it is. */
  private emitNotification(body: WireEventSubNotificationBody, meta: EventSubMessageMeta, audience: NotificationAudience): Promise<void> {
    let payload: EventSubNotification;
    try {
      const subscription = this.subscriptions.convert(body.subscription);
      payload = {
        subscription,
        event: toEventSubEvent(subscription.type, body.event),
        messageId: meta.messageId,
        timestamp: meta.timestamp,
        rawEvent: body.event,
        transport: meta.transport,
      };
    } catch (error) {
      this.logger.error(`EventSub message ${meta.messageId} could not be read: ${errorMessage(error)}`);
      return DONE;
    }
    const { toAll, toType } = audience;
    if (toAll && toType !== null) {
      return Promise.all([this.emit(TwitchAuthEvent.EventSubNotification, payload), this.emit(toType, payload)]).then(NOTHING);
    }
    return this.emit(toAll ? TwitchAuthEvent.EventSubNotification : toType!, payload);
  }

  /** Emits `twitch.eventsub.revocation`, after marking the user's token when the revocation says the grant is gone. */
  async dispatchRevocation(body: WireEventSubRevocationBody, meta: EventSubMessageMeta): Promise<void> {
    await this.revoker.revocation(body, meta.timestamp);
    let payload: EventSubRevocation;
    try {
      const subscription = toEventSubSubscription(body.subscription);
      payload = {
        subscription,
        reason: subscription.status,
        messageId: meta.messageId,
        timestamp: meta.timestamp,
        transport: meta.transport,
      };
    } catch (error) {
      this.logger.error(`EventSub message ${meta.messageId} could not be read: ${errorMessage(error)}`);
      return;
    }
    this.logger.warn(`Twitch revoked EventSub subscription ${payload.subscription.id} (${payload.subscription.type}): ${payload.reason}.`);
    await this.emit(TwitchAuthEvent.EventSubRevocation, payload);
  }

  private emit(name: string, payload: unknown): Promise<void> {
    return this.events.emitAndWait(name, payload);
  }
}

const DONE: Promise<void> = Promise.resolve();
const NOTHING = (): void => undefined;
