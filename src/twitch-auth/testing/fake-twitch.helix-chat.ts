import { randomUUID } from 'node:crypto';
import type { FakeTwitchContext } from './fake-twitch.context.js';
import { bearerToken } from './fake-twitch.rate-limit.js';
import { twitchErrorResponse } from './fake-twitch.server.js';
import type { FakeTwitchStore } from './fake-twitch.store.js';
import type {
  FakeChatMessage,
  FakeTokenInfo,
  FakeTwitchRequest,
  FakeTwitchResponse,
  FakeTwitchRoute,
  FakeUser,
} from './fake-twitch.types.js';

/** Chat messages live beside the token store, so `FakeTwitch.reset()` forgets them too. */
const chatLogs = new WeakMap<FakeTwitchStore, FakeChatMessage[]>();

/** Every chat message FakeTwitch accepted since the last reset, oldest first. */
export function chatMessagesOf(store: FakeTwitchStore): FakeChatMessage[] {
  let log = chatLogs.get(store);
  if (!log) {
    log = [];
    chatLogs.set(store, log);
  }
  return log;
}

/** Users created before any test ran: Twitch accounts have a creation date. */
const CREATED_AT = '2016-12-14T20:32:28Z';

/**
 * `GET /helix/users` and `POST /helix/chat/messages` with Twitch's rules:
 * any valid token of this client; a user token looks up its own user when no
 * id or login is given; sending chat needs `user:write:chat` on the sender's
 * user token, or, with an app token (bot badge), `user:bot` granted by the
 * sender and `channel:bot` by the broadcaster (unless the sender is the
 * broadcaster).
 */
export function helixChatRoutes(context: FakeTwitchContext): FakeTwitchRoute[] {
  return [
    { method: 'GET', path: '/helix/users', endpoint: 'helix', handle: (request) => getUsers(context, request) },
    { method: 'POST', path: '/helix/chat/messages', endpoint: 'helix', handle: (request) => sendChatMessage(context, request) },
  ];
}

/** The token's facts, or Twitch's 401 when it is missing, unknown, expired, revoked or another client's. */
export function authenticateHelix(context: FakeTwitchContext, headers: Record<string, string>): FakeTokenInfo | FakeTwitchResponse {
  const token = bearerToken(headers);
  if (!token) return twitchErrorResponse(401, 'OAuth token is missing');
  const info = context.store.tokenInfo(token);
  if (!info || !context.store.isValid(token)) return twitchErrorResponse(401, 'Invalid OAuth token');
  if (!headers['client-id']) return twitchErrorResponse(401, 'Client-Id header required');
  if (headers['client-id'] !== info.clientId) return twitchErrorResponse(401, 'Client ID and OAuth token do not match');
  return info;
}

function getUsers(context: FakeTwitchContext, request: FakeTwitchRequest): FakeTwitchResponse {
  const auth = authenticateHelix(context, request.headers);
  if ('status' in auth) return auth;
  const ids = request.searchParams.getAll('id');
  const logins = request.searchParams.getAll('login');
  if (ids.length + logins.length > 100) return twitchErrorResponse(400, 'The sum of id and login parameters must not exceed 100');
  let users: FakeUser[];
  if (ids.length + logins.length === 0) {
    if (auth.kind !== 'user') return twitchErrorResponse(400, 'Must provide an ID, Login or OAuth Token');
    users = [context.store.ensureUser(auth.userId!)];
  } else {
    const found = [...ids.map((id) => context.store.getUser(id)), ...logins.map((login) => context.store.findUserByLogin(login))];
    const unique = new Map<string, FakeUser>();
    for (const user of found) if (user) unique.set(user.userId, user);
    users = [...unique.values()];
  }
  const data = users.map((user) => ({
    id: user.userId,
    login: user.login,
    display_name: user.login,
    type: '',
    broadcaster_type: '',
    description: '',
    profile_image_url: '',
    offline_image_url: '',
    view_count: 0,
    ...(auth.kind === 'user' && auth.userId === user.userId && auth.scopes.includes('user:read:email')
      ? { email: `${user.login}@example.invalid` }
      : {}),
    created_at: CREATED_AT,
  }));
  return { status: 200, body: { data } };
}

function sendChatMessage(context: FakeTwitchContext, request: FakeTwitchRequest): FakeTwitchResponse {
  const auth = authenticateHelix(context, request.headers);
  if ('status' in auth) return auth;
  // Twitch documents body fields, and also reads them from the query string (twurple sends the ids there).
  const body = { ...request.query, ...((request.json ?? {}) as Record<string, unknown>) };
  const { broadcaster_id: broadcasterId, sender_id: senderId, message } = body;
  if (typeof broadcasterId !== 'string' || broadcasterId === '')
    return twitchErrorResponse(400, 'Missing required parameter "broadcaster_id"');
  if (typeof senderId !== 'string' || senderId === '') return twitchErrorResponse(400, 'Missing required parameter "sender_id"');
  if (typeof message !== 'string' || message === '') return twitchErrorResponse(400, 'Missing required parameter "message"');
  if (message.length > 500) return twitchErrorResponse(400, 'The message is too long');
  if (auth.kind === 'user') {
    if (!auth.scopes.includes('user:write:chat')) return twitchErrorResponse(401, 'Missing scope: user:write:chat');
    if (auth.userId !== senderId) return twitchErrorResponse(403, 'The sender must be the user the access token belongs to');
  } else {
    if (!context.store.grantedScopes(senderId).has('user:bot')) {
      return twitchErrorResponse(403, 'The sender has not authorized the app with the user:bot scope');
    }
    if (senderId !== broadcasterId && !context.store.grantedScopes(broadcasterId).has('channel:bot')) {
      return twitchErrorResponse(403, 'The broadcaster has not authorized the app with the channel:bot scope');
    }
  }
  const messageId = randomUUID();
  chatMessagesOf(context.store).push({ messageId, broadcasterId, senderId, message, botBadge: auth.kind === 'app' });
  return { status: 200, body: { data: [{ message_id: messageId, is_sent: true, drop_reason: null }] } };
}
