import type {
  WireChannelChatMessageEvent,
  WireChannelCheerEvent,
  WireChannelFollowEvent,
  WireChannelRaidEvent,
  WireChannelSubscribeEvent,
  WireChatMessageFragment,
  WireEventSubSubscription,
  WireStreamOfflineEvent,
  WireStreamOnlineEvent,
} from '../twitch/eventsub-wire.types.js';
import type {
  ChannelChatMessageEvent,
  ChannelCheerEvent,
  ChannelFollowEvent,
  ChannelRaidEvent,
  ChannelSubscribeEvent,
  ChatMessageFragment,
  EventSubEventMap,
  EventSubSubscription,
  StreamOfflineEvent,
  StreamOnlineEvent,
} from './eventsub.types.js';
import { parseEventSubTimestamp } from './eventsub-signature.js';

/*
 * The one place where Twitch's snake_case EventSub JSON becomes the camelCase
 * domain types. Fields are listed out rather than spread from helpers: on
 * Node 20, spreading objects into a literal costs microseconds per event,
 * listing them costs nanoseconds. The input is signed by Twitch but its shape is still only
 * trusted so far: a missing field becomes an empty value rather than a throw,
 * so one odd event cannot break dispatch of the others.
 */

/** A subscription from a webhook body or a Helix answer. */
export function toEventSubSubscription(wire: WireEventSubSubscription): EventSubSubscription {
  const transport = record(wire.transport);
  const converted: EventSubSubscription['transport'] = { method: text(transport.method), callback: nullableText(transport.callback) };
  // Only WebSocket (and conduit shard) subscriptions name a session; webhooks keep their two fields.
  if (transport.session_id !== undefined) converted.sessionId = nullableText(transport.session_id);
  return {
    id: text(wire.id),
    status: text(wire.status),
    type: text(wire.type),
    version: text(wire.version),
    cost: num(wire.cost),
    condition: stringMap(wire.condition),
    transport: converted,
    createdAt: date(wire.created_at),
  };
}

const converters: { [T in keyof EventSubEventMap]: (raw: Record<string, unknown>) => EventSubEventMap[T] } = {
  'channel.follow': (raw) => {
    const e = raw as Partial<WireChannelFollowEvent>;
    return {
      userId: text(e.user_id),
      userLogin: text(e.user_login),
      userName: text(e.user_name),
      broadcasterUserId: text(e.broadcaster_user_id),
      broadcasterUserLogin: text(e.broadcaster_user_login),
      broadcasterUserName: text(e.broadcaster_user_name),
      followedAt: date(e.followed_at),
    } satisfies ChannelFollowEvent;
  },
  'stream.online': (raw) => {
    const e = raw as Partial<WireStreamOnlineEvent>;
    return {
      id: text(e.id),
      broadcasterUserId: text(e.broadcaster_user_id),
      broadcasterUserLogin: text(e.broadcaster_user_login),
      broadcasterUserName: text(e.broadcaster_user_name),
      type: text(e.type),
      startedAt: date(e.started_at),
    } satisfies StreamOnlineEvent;
  },
  'stream.offline': (raw) => broadcaster(raw as Partial<WireStreamOfflineEvent>) satisfies StreamOfflineEvent,
  'channel.subscribe': (raw) => {
    const e = raw as Partial<WireChannelSubscribeEvent>;
    return {
      userId: text(e.user_id),
      userLogin: text(e.user_login),
      userName: text(e.user_name),
      broadcasterUserId: text(e.broadcaster_user_id),
      broadcasterUserLogin: text(e.broadcaster_user_login),
      broadcasterUserName: text(e.broadcaster_user_name),
      tier: text(e.tier),
      isGift: e.is_gift === true,
    } satisfies ChannelSubscribeEvent;
  },
  'channel.cheer': (raw) => {
    const e = raw as Partial<WireChannelCheerEvent>;
    return {
      isAnonymous: e.is_anonymous === true,
      userId: nullableText(e.user_id),
      userLogin: nullableText(e.user_login),
      userName: nullableText(e.user_name),
      broadcasterUserId: text(e.broadcaster_user_id),
      broadcasterUserLogin: text(e.broadcaster_user_login),
      broadcasterUserName: text(e.broadcaster_user_name),
      message: text(e.message),
      bits: num(e.bits),
    } satisfies ChannelCheerEvent;
  },
  'channel.raid': (raw) => {
    const e = raw as Partial<WireChannelRaidEvent>;
    return {
      fromBroadcasterUserId: text(e.from_broadcaster_user_id),
      fromBroadcasterUserLogin: text(e.from_broadcaster_user_login),
      fromBroadcasterUserName: text(e.from_broadcaster_user_name),
      toBroadcasterUserId: text(e.to_broadcaster_user_id),
      toBroadcasterUserLogin: text(e.to_broadcaster_user_login),
      toBroadcasterUserName: text(e.to_broadcaster_user_name),
      viewers: num(e.viewers),
    } satisfies ChannelRaidEvent;
  },
  'channel.chat.message': (raw) => toChatMessage(raw as Partial<WireChannelChatMessageEvent>),
};

/**
 * The camelCase event for the types in `EventSubEventMap`; any other type's
 * event is returned as Twitch sent it.
 */
export function toEventSubEvent(type: string, raw: Record<string, unknown>): unknown {
  const convert = Object.prototype.hasOwnProperty.call(converters, type) ? converters[type as keyof EventSubEventMap] : undefined;
  return convert ? convert(raw) : raw;
}

function toChatMessage(e: Partial<WireChannelChatMessageEvent>): ChannelChatMessageEvent {
  const message = record(e.message);
  const reply = e.reply ? record(e.reply) : null;
  const cheer = e.cheer ? record(e.cheer) : null;
  return {
    broadcasterUserId: text(e.broadcaster_user_id),
    broadcasterUserLogin: text(e.broadcaster_user_login),
    broadcasterUserName: text(e.broadcaster_user_name),
    chatterUserId: text(e.chatter_user_id),
    chatterUserLogin: text(e.chatter_user_login),
    chatterUserName: text(e.chatter_user_name),
    messageId: text(e.message_id),
    text: text(message.text),
    fragments: list(message.fragments).map((fragment) => toFragment(record(fragment) as Partial<WireChatMessageFragment>)),
    messageType: text(e.message_type),
    badges: list(e.badges).map((badge) => {
      const b = record(badge);
      return { setId: text(b.set_id), id: text(b.id), info: text(b.info) };
    }),
    cheerBits: cheer ? num(cheer.bits) : null,
    color: text(e.color),
    reply: reply
      ? {
          parentMessageId: text(reply.parent_message_id),
          parentMessageBody: text(reply.parent_message_body),
          parentUserId: text(reply.parent_user_id),
          parentUserName: text(reply.parent_user_name),
          parentUserLogin: text(reply.parent_user_login),
          threadMessageId: text(reply.thread_message_id),
          threadUserId: text(reply.thread_user_id),
          threadUserName: text(reply.thread_user_name),
          threadUserLogin: text(reply.thread_user_login),
        }
      : null,
    channelPointsCustomRewardId: nullableText(e.channel_points_custom_reward_id),
  };
}

function toFragment(f: Partial<WireChatMessageFragment>): ChatMessageFragment {
  const cheermote = f.cheermote ? record(f.cheermote) : null;
  const emote = f.emote ? record(f.emote) : null;
  const mention = f.mention ? record(f.mention) : null;
  return {
    type: text(f.type),
    text: text(f.text),
    cheermote: cheermote ? { prefix: text(cheermote.prefix), bits: num(cheermote.bits), tier: num(cheermote.tier) } : null,
    emote: emote
      ? {
          id: text(emote.id),
          emoteSetId: text(emote.emote_set_id),
          ownerId: nullableText(emote.owner_id),
          format: list(emote.format).map(text),
        }
      : null,
    mention: mention ? { userId: text(mention.user_id), userName: text(mention.user_name), userLogin: text(mention.user_login) } : null,
  };
}

function broadcaster(e: { broadcaster_user_id?: unknown; broadcaster_user_login?: unknown; broadcaster_user_name?: unknown }) {
  return {
    broadcasterUserId: text(e.broadcaster_user_id),
    broadcasterUserLogin: text(e.broadcaster_user_login),
    broadcasterUserName: text(e.broadcaster_user_name),
  };
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function nullableText(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** Twitch's RFC 3339 times carry up to nine fractional digits; an unreadable one becomes an invalid Date. */
function date(value: unknown): Date {
  return new Date((typeof value === 'string' ? parseEventSubTimestamp(value) : null) ?? Number.NaN);
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const input = record(value);
  // for...in over a plain JSON object: no entry arrays to allocate per message.
  for (const key in input) {
    const entry = input[key];
    if (typeof entry === 'string') out[key] = entry;
  }
  return out;
}
