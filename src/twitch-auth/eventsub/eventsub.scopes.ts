/**
 * Scopes a user token needs to subscribe to each common EventSub type, by
 * `type@version` or `type` (any version). Types Twitch accepts with one of
 * several scopes (e.g. `channel:read:redemptions` or
 * `channel:manage:redemptions`) are left out: pass `scopes` to check one.
 * Types missing here are sent unchecked and Twitch decides.
 */
export const EVENTSUB_SCOPES: Readonly<Record<string, readonly string[]>> = {
  'channel.follow@2': ['moderator:read:followers'],
  'channel.subscribe': ['channel:read:subscriptions'],
  'channel.subscription.end': ['channel:read:subscriptions'],
  'channel.subscription.gift': ['channel:read:subscriptions'],
  'channel.subscription.message': ['channel:read:subscriptions'],
  'channel.cheer': ['bits:read'],
  'channel.bits.use': ['bits:read'],
  'channel.raid': [],
  'channel.update': [],
  'stream.online': [],
  'stream.offline': [],
  'user.update': [],
  'channel.ban': ['channel:moderate'],
  'channel.unban': ['channel:moderate'],
  'channel.moderator.add': ['moderation:read'],
  'channel.moderator.remove': ['moderation:read'],
  'channel.chat.message': ['user:read:chat'],
  'channel.chat.notification': ['user:read:chat'],
  'channel.chat.clear': ['user:read:chat'],
  'channel.chat.message_delete': ['user:read:chat'],
  'channel.hype_train.begin': ['channel:read:hype_train'],
  'channel.hype_train.progress': ['channel:read:hype_train'],
  'channel.hype_train.end': ['channel:read:hype_train'],
  'channel.goal.begin': ['channel:read:goals'],
  'channel.goal.progress': ['channel:read:goals'],
  'channel.goal.end': ['channel:read:goals'],
  'user.whisper.message': ['user:read:whispers'],
};

/** The scopes to check for a subscription: the caller's, else the table's, else none. */
export function eventSubScopes(type: string, version: string, given: readonly string[] | undefined): string[] {
  if (given !== undefined) return [...given];
  return [...(EVENTSUB_SCOPES[`${type}@${version}`] ?? EVENTSUB_SCOPES[type] ?? [])];
}
