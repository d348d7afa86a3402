/**
 * EventSub JSON exactly as Twitch sends it (snake_case): webhook bodies, the
 * events this library types, and Helix's subscription endpoints. Converted to
 * the camelCase domain types in `eventsub/eventsub.converters.ts` only.
 */

/** A subscription as Twitch describes it in webhook bodies and Helix answers. */
export interface WireEventSubSubscription {
  id: string;
  status: string;
  type: string;
  version: string;
  cost: number;
  condition: Record<string, string>;
  transport: WireEventSubTransport;
  created_at: string;
}

/**
 * Where a subscription delivers: `webhook` (callback), `websocket` (session,
 * with when it connected and, once gone, disconnected) or `conduit`.
 */
export interface WireEventSubTransport {
  method: string;
  callback?: string;
  session_id?: string;
  connected_at?: string;
  disconnected_at?: string;
  conduit_id?: string;
}

/** Metadata of every EventSub WebSocket message. */
export interface WireEventSubWsMetadata {
  message_id: string;
  message_type: string;
  message_timestamp: string;
  subscription_type?: string;
  subscription_version?: string;
}

/** A session as `session_welcome` and `session_reconnect` describe it. */
export interface WireEventSubWsSession {
  id: string;
  status: string;
  keepalive_timeout_seconds: number | null;
  reconnect_url: string | null;
  connected_at: string;
}

/** One EventSub WebSocket message: metadata plus a payload whose shape depends on `message_type`. */
export interface WireEventSubWsMessage {
  metadata: WireEventSubWsMetadata;
  payload: { session?: WireEventSubWsSession; subscription?: WireEventSubSubscription; event?: Record<string, unknown> };
}

/** A conduit as Helix's conduit endpoints describe it. */
export interface WireEventSubConduit {
  id: string;
  shard_count: number;
}

/** One conduit shard as `GET /eventsub/conduits/shards` lists it. */
export interface WireEventSubConduitShard {
  id: string;
  status: string;
  transport: WireEventSubTransport;
}

/** Body of a `notification` message. */
export interface WireEventSubNotificationBody {
  subscription: WireEventSubSubscription;
  event: Record<string, unknown>;
}

/** Body of a `webhook_callback_verification` message. */
export interface WireEventSubVerificationBody {
  challenge: string;
  subscription: WireEventSubSubscription;
}

/** Body of a `revocation` message; `subscription.status` says why. */
export interface WireEventSubRevocationBody {
  subscription: WireEventSubSubscription;
}

/** Body of `POST /eventsub/subscriptions`. */
export interface WireCreateEventSubSubscription {
  type: string;
  version: string;
  condition: Record<string, string>;
  transport: { method: 'webhook'; callback: string; secret: string } | { method: 'conduit'; conduit_id: string };
}

/** Answer of `POST` (202) and `GET /eventsub/subscriptions`. */
export interface WireEventSubSubscriptionList {
  data: WireEventSubSubscription[];
  total: number;
  total_cost: number;
  max_total_cost: number;
  pagination?: { cursor?: string };
}

/** `channel.follow` version 2. */
export interface WireChannelFollowEvent {
  user_id: string;
  user_login: string;
  user_name: string;
  broadcaster_user_id: string;
  broadcaster_user_login: string;
  broadcaster_user_name: string;
  followed_at: string;
}

/** `stream.online`. */
export interface WireStreamOnlineEvent {
  id: string;
  broadcaster_user_id: string;
  broadcaster_user_login: string;
  broadcaster_user_name: string;
  type: string;
  started_at: string;
}

/** `stream.offline`. */
export interface WireStreamOfflineEvent {
  broadcaster_user_id: string;
  broadcaster_user_login: string;
  broadcaster_user_name: string;
}

/** `channel.subscribe`. */
export interface WireChannelSubscribeEvent {
  user_id: string;
  user_login: string;
  user_name: string;
  broadcaster_user_id: string;
  broadcaster_user_login: string;
  broadcaster_user_name: string;
  tier: string;
  is_gift: boolean;
}

/** `channel.cheer`; the user fields are null for anonymous cheers. */
export interface WireChannelCheerEvent {
  is_anonymous: boolean;
  user_id: string | null;
  user_login: string | null;
  user_name: string | null;
  broadcaster_user_id: string;
  broadcaster_user_login: string;
  broadcaster_user_name: string;
  message: string;
  bits: number;
}

/** `channel.raid`. */
export interface WireChannelRaidEvent {
  from_broadcaster_user_id: string;
  from_broadcaster_user_login: string;
  from_broadcaster_user_name: string;
  to_broadcaster_user_id: string;
  to_broadcaster_user_login: string;
  to_broadcaster_user_name: string;
  viewers: number;
}

/** One fragment of a chat message: text, an emote, a cheermote or a mention. */
export interface WireChatMessageFragment {
  type: string;
  text: string;
  cheermote?: { prefix: string; bits: number; tier: number } | null;
  emote?: { id: string; emote_set_id: string; owner_id?: string; format?: string[] } | null;
  mention?: { user_id: string; user_name: string; user_login: string } | null;
}

/** `channel.chat.message`. */
export interface WireChannelChatMessageEvent {
  broadcaster_user_id: string;
  broadcaster_user_login: string;
  broadcaster_user_name: string;
  chatter_user_id: string;
  chatter_user_login: string;
  chatter_user_name: string;
  message_id: string;
  message: { text: string; fragments: WireChatMessageFragment[] };
  message_type: string;
  badges: { set_id: string; id: string; info: string }[];
  cheer: { bits: number } | null;
  color: string;
  reply: {
    parent_message_id: string;
    parent_message_body: string;
    parent_user_id: string;
    parent_user_name: string;
    parent_user_login: string;
    thread_message_id: string;
    thread_user_id: string;
    thread_user_name: string;
    thread_user_login: string;
  } | null;
  channel_points_custom_reward_id: string | null;
}
