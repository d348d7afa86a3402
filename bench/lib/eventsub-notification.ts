import { createHmac } from 'node:crypto';

/** The webhook secret every B3 server is configured with (10 to 100 ASCII characters). */
export const EVENTSUB_SECRET = 'bench-eventsub-secret-0123456789';

/** The broadcaster (and moderator) of the benchmark's `channel.follow` v2 subscription. */
export const BROADCASTER_ID = '1337';

/** `"sha256=" + hex(HMAC-SHA256(secret, messageId + timestamp + rawBody))`, as Twitch signs. */
export function signEventSub(secret: string, messageId: string, timestamp: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(messageId).update(timestamp).update(body).digest('hex')}`;
}

/** A `channel.follow` v2 notification body, as Twitch sends it. */
export function followNotificationBody(subscriptionId: string, callback: string): string {
  return JSON.stringify({
    subscription: {
      id: subscriptionId,
      status: 'enabled',
      type: 'channel.follow',
      version: '2',
      cost: 0,
      condition: { broadcaster_user_id: BROADCASTER_ID, moderator_user_id: BROADCASTER_ID },
      transport: { method: 'webhook', callback },
      created_at: '2026-01-01T00:00:00.000000000Z',
    },
    event: {
      user_id: '1234',
      user_login: 'cool_user',
      user_name: 'Cool_User',
      broadcaster_user_id: BROADCASTER_ID,
      broadcaster_user_login: 'cooler_user',
      broadcaster_user_name: 'Cooler_User',
      followed_at: '2026-01-01T00:00:00.000000000Z',
    },
  });
}

/** The headers of one signed notification. */
export function notificationHeaders(messageId: string, timestamp: string, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'twitch-eventsub-message-id': messageId,
    'twitch-eventsub-message-retry': '0',
    'twitch-eventsub-message-type': 'notification',
    'twitch-eventsub-message-signature': signEventSub(EVENTSUB_SECRET, messageId, timestamp, body),
    'twitch-eventsub-message-timestamp': timestamp,
    'twitch-eventsub-subscription-type': 'channel.follow',
    'twitch-eventsub-subscription-version': '2',
  };
}
