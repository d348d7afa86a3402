/** Helix's snake_case answers for the typed helpers, and their conversions. */
import { TwitchUnexpectedResponseError } from '../twitch/twitch.errors.js';
import type { HelixUser, SentChatMessage } from './helix.types.js';

/** One user of `GET /users`. */
export interface WireUser {
  id: string;
  login: string;
  display_name: string;
  type: string;
  broadcaster_type: string;
  description: string;
  profile_image_url: string;
  offline_image_url: string;
  email?: string;
  created_at: string;
}

/** `GET /users`. */
export interface WireUserList {
  data: WireUser[];
}

/** `POST /chat/messages`. */
export interface WireChatMessageAnswer {
  data: { message_id: string; is_sent: boolean; drop_reason?: { code: string; message: string } | null }[];
}

/** A wire user in this library's shape. */
export function toHelixUser(user: WireUser): HelixUser {
  return {
    id: user.id,
    login: user.login,
    displayName: user.display_name,
    type: user.type,
    broadcasterType: user.broadcaster_type,
    description: user.description,
    profileImageUrl: user.profile_image_url,
    offlineImageUrl: user.offline_image_url,
    email: user.email ?? null,
    createdAt: new Date(user.created_at),
  };
}

/** The first (only) entry of a chat-message answer. */
export function toSentChatMessage(answer: WireChatMessageAnswer): SentChatMessage {
  const entry = answer?.data?.[0];
  if (!entry)
    throw new TwitchUnexpectedResponseError({ status: 200, twitchMessage: 'no data in the chat message answer', endpoint: 'helix' });
  return { messageId: entry.message_id, isSent: entry.is_sent, dropReason: entry.drop_reason ?? null };
}
