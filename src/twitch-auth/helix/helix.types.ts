/** Shapes of `TwitchApiClient`'s calls and of the typed helpers' answers. */

/** An HTTP method Helix uses. */
export type HelixMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Which token a call carries: a user's (`{ userId }`), the user holding a
 * named intent (`{ intent }`, e.g. `chat`), or the app access token (`'app'`).
 */
export type HelixAuth = { userId: string } | { intent: string } | 'app';

/** A query value; arrays become repeated parameters (`id=1&id=2`), as Helix expects. */
export type HelixQueryValue = string | number | boolean | readonly (string | number)[] | undefined;

/** Options of one Helix call. Query values are never secrets: they may end up in logs. */
export interface HelixCallOptions {
  /** Whose token to send. */
  auth: HelixAuth;
  query?: Record<string, HelixQueryValue>;
  /** Sent as a JSON body. */
  json?: unknown;
  /**
   * Scopes the user token must hold; checked before anything is sent
   * (`MissingScopesError`). Not allowed with `'app'`, whose token has none.
   */
  scopes?: readonly string[];
  /** Rate-limit points the call costs. Default 1 (nearly every Helix endpoint). */
  points?: number;
  /**
   * Whether sending the call twice is harmless, so network failures,
   * timeouts and 5xx may be retried. Default: true for GET, PUT and DELETE.
   */
  idempotent?: boolean;
}

/** A Helix answer, whatever its status. */
export interface HelixResponse<T = unknown> {
  status: number;
  /** Parsed JSON; null for an empty body. */
  body: T;
}

/** A user as `getUsers` returns it. */
export interface HelixUser {
  id: string;
  login: string;
  displayName: string;
  /** `''`, `admin`, `global_mod` or `staff`. */
  type: string;
  /** `''`, `affiliate` or `partner`. */
  broadcasterType: string;
  description: string;
  profileImageUrl: string;
  offlineImageUrl: string;
  /** Only with a user token carrying `user:read:email`, for that user. */
  email: string | null;
  createdAt: Date;
}

/** Who is looked up by `getUsers`: ids and logins (up to 100 together), or nobody for the token's own user. */
export interface GetUsersOptions {
  ids?: readonly string[];
  logins?: readonly string[];
  /** Default `'app'`; looking up nobody needs a user token (`{ userId }` or `{ intent }`). */
  auth?: HelixAuth;
}

/** What `sendChatMessage` sends. */
export interface SendChatMessageOptions {
  broadcasterId: string;
  senderId: string;
  message: string;
  replyParentMessageId?: string;
  /**
   * `'user'` (default): with the sender's token, which needs `user:write:chat`.
   * `'app'`: with the app token and the bot badge; the sender must have
   * granted `user:bot` (checked here on the sender's stored token) and the
   * broadcaster `channel:bot` unless the sender moderates the channel
   * (Twitch checks that).
   */
  as?: 'user' | 'app';
}

/** Twitch's verdict on a chat message. */
export interface SentChatMessage {
  messageId: string;
  isSent: boolean;
  /** Why Twitch dropped it (e.g. AutoMod), when it did. */
  dropReason: { code: string; message: string } | null;
}
