/** EventSub domain types (camelCase), as event handlers and `EventSubService` callers see them. */

/**
 * Condition of a subscription, with Twitch's own field names
 * (`{ broadcaster_user_id: '123' }`): they differ per type, so they are passed through as-is.
 */
export type EventSubCondition = Record<string, string>;

/** Statuses Twitch reports for a subscription (others may appear; compare as strings). */
export type EventSubSubscriptionStatus =
  | 'enabled'
  | 'webhook_callback_verification_pending'
  | 'webhook_callback_verification_failed'
  | 'notification_failures_exceeded'
  | 'authorization_revoked'
  | 'moderator_removed'
  | 'user_removed'
  | 'chat_user_banned'
  | 'version_removed'
  | 'beta_maintenance'
  | typeof EVENTSUB_WEBSOCKET_PENDING_STATUS
  | (string & {});

/**
 * Status of a WebSocket subscription stored by an instance that does not
 * hold the user's sockets: the instance that does creates it at its next
 * lease round (within `eventSub.webSocket.renewSeconds`).
 */
export const EVENTSUB_WEBSOCKET_PENDING_STATUS = 'websocket_owner_pending';

/** One EventSub subscription. */
export interface EventSubSubscription {
  id: string;
  status: EventSubSubscriptionStatus;
  type: string;
  version: string;
  /** Subscription cost counted against `max_total_cost` (0 when the user authorized the app). */
  cost: number;
  condition: EventSubCondition;
  /** Transport method (`webhook`, `websocket`, `conduit`), the callback URL of a webhook, the session of a WebSocket. */
  transport: { method: string; callback: string | null; sessionId?: string | null };
  createdAt: Date;
}

/** How a message reached this app; a field of every notification and revocation, the events are the same. */
export type EventSubTransportMethod = 'webhook' | 'websocket' | 'conduit';

/**
 * Where a subscription delivers: a webhook to this app's callback (with the
 * app token), or a WebSocket this module opens for `userId` (with that
 * user's token; the user the condition names).
 */
export type EventSubTransportChoice = { method: 'webhook' } | { method: 'websocket'; userId: string };

/** What `EventSubService.subscribe` / `ensure` is asked to have. */
export interface EventSubSubscriptionSpec {
  type: string;
  version: string;
  condition: EventSubCondition;
  /** Default: a webhook. */
  transport?: EventSubTransportChoice;
  /**
   * WebSocket only: scopes the user's token must hold, checked before Twitch
   * is asked. Default: the known scopes of `type` (see `EVENTSUB_SCOPES`).
   */
  scopes?: string[];
}

/** Filter of `EventSubService.list`; Twitch accepts at most one field at a time. */
export interface EventSubListFilter {
  status?: EventSubSubscriptionStatus;
  type?: string;
  userId?: string;
  /** `'websocket'`: the WebSocket subscriptions this instance carries instead of Helix's list of app-token subscriptions. */
  transport?: 'webhook' | 'websocket';
}

/** Result of `EventSubService.ensure`. */
export interface EventSubEnsureResult {
  /** Subscriptions created now (their handshake may still be pending). */
  created: EventSubSubscription[];
  /** Matching subscriptions that were already enabled or pending, left alone. */
  existing: EventSubSubscription[];
  /** Matching subscriptions in a dead state (failed, revoked) that were deleted before re-creating. */
  removed: EventSubSubscription[];
}

/**
 * Payload of `twitch.eventsub.notification` and of `twitch.eventsub.<type>`.
 * `event` is the camelCase form for the types in `EventSubEventMap`, and the
 * event exactly as Twitch sent it for any other type.
 */
export interface EventSubNotification<E = unknown> {
  /**
   * The subscription the message came for. One frozen object is shared by its
   * notifications while Twitch sends it unchanged (every message repeats it):
   * copy it to change it.
   */
  subscription: EventSubSubscription;
  event: E;
  /** `Twitch-Eventsub-Message-Id`: stable across Twitch's retries. */
  messageId: string;
  /** `Twitch-Eventsub-Message-Timestamp` as sent (RFC 3339, up to nanoseconds). */
  timestamp: string;
  /** The event as Twitch sent it (snake_case), for fields this library does not type. */
  rawEvent: Record<string, unknown>;
  /** How the message came: the events and payloads are the same for every transport. */
  transport: EventSubTransportMethod;
}

/** Payload of `twitch.eventsub.revocation`: Twitch stopped a subscription. */
export interface EventSubRevocation {
  subscription: EventSubSubscription;
  /** Why: `subscription.status`, e.g. `authorization_revoked` or `notification_failures_exceeded`. */
  reason: EventSubSubscriptionStatus;
  messageId: string;
  timestamp: string;
  /** How the message came. */
  transport: EventSubTransportMethod;
}

/** `channel.follow` (version 2). */
export interface ChannelFollowEvent {
  userId: string;
  userLogin: string;
  userName: string;
  broadcasterUserId: string;
  broadcasterUserLogin: string;
  broadcasterUserName: string;
  followedAt: Date;
}

/** `stream.online`. */
export interface StreamOnlineEvent {
  /** The stream id. */
  id: string;
  broadcasterUserId: string;
  broadcasterUserLogin: string;
  broadcasterUserName: string;
  /** `live`, `playlist`, `watch_party`, `premiere` or `rerun`. */
  type: string;
  startedAt: Date;
}

/** `stream.offline`. */
export interface StreamOfflineEvent {
  broadcasterUserId: string;
  broadcasterUserLogin: string;
  broadcasterUserName: string;
}

/** `channel.subscribe`. */
export interface ChannelSubscribeEvent {
  userId: string;
  userLogin: string;
  userName: string;
  broadcasterUserId: string;
  broadcasterUserLogin: string;
  broadcasterUserName: string;
  /** `1000`, `2000` or `3000`. */
  tier: string;
  isGift: boolean;
}

/** `channel.cheer`; the user fields are null when the cheer is anonymous. */
export interface ChannelCheerEvent {
  isAnonymous: boolean;
  userId: string | null;
  userLogin: string | null;
  userName: string | null;
  broadcasterUserId: string;
  broadcasterUserLogin: string;
  broadcasterUserName: string;
  message: string;
  bits: number;
}

/** `channel.raid`. */
export interface ChannelRaidEvent {
  fromBroadcasterUserId: string;
  fromBroadcasterUserLogin: string;
  fromBroadcasterUserName: string;
  toBroadcasterUserId: string;
  toBroadcasterUserLogin: string;
  toBroadcasterUserName: string;
  viewers: number;
}

/** One part of a chat message; exactly one of the detail fields is set for non-text parts. */
export interface ChatMessageFragment {
  type: 'text' | 'emote' | 'cheermote' | 'mention' | (string & {});
  text: string;
  cheermote: { prefix: string; bits: number; tier: number } | null;
  emote: { id: string; emoteSetId: string; ownerId: string | null; format: string[] } | null;
  mention: { userId: string; userName: string; userLogin: string } | null;
}

/** `channel.chat.message`. */
export interface ChannelChatMessageEvent {
  broadcasterUserId: string;
  broadcasterUserLogin: string;
  broadcasterUserName: string;
  chatterUserId: string;
  chatterUserLogin: string;
  chatterUserName: string;
  messageId: string;
  text: string;
  fragments: ChatMessageFragment[];
  /** `text`, `channel_points_highlighted`, `channel_points_sub_only` or `user_intro`. */
  messageType: string;
  badges: { setId: string; id: string; info: string }[];
  /** Bits cheered with the message, or null. */
  cheerBits: number | null;
  color: string;
  reply: {
    parentMessageId: string;
    parentMessageBody: string;
    parentUserId: string;
    parentUserName: string;
    parentUserLogin: string;
    threadMessageId: string;
    threadUserId: string;
    threadUserName: string;
    threadUserLogin: string;
  } | null;
  channelPointsCustomRewardId: string | null;
}

/** The typed event of each subscription type this library converts: `EventSubNotification<EventSubEventMap['channel.follow']>`. */
export interface EventSubEventMap {
  'channel.follow': ChannelFollowEvent;
  'stream.online': StreamOnlineEvent;
  'stream.offline': StreamOfflineEvent;
  'channel.subscribe': ChannelSubscribeEvent;
  'channel.cheer': ChannelCheerEvent;
  'channel.raid': ChannelRaidEvent;
  'channel.chat.message': ChannelChatMessageEvent;
}
