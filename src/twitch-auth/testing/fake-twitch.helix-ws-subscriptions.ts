import type { WireEventSubSubscription, WireEventSubSubscriptionList, WireEventSubTransport } from '../twitch/eventsub-wire.types.js';
import type { FakeTwitchContext } from './fake-twitch.context.js';
import type { FakeEventSubHub } from './fake-twitch.eventsub-hub.js';
import { eventSubStateOf } from './fake-twitch.eventsub-state.js';
import { twitchErrorResponse } from './fake-twitch.server.js';
import { FAKE_MAX_TOTAL_COST } from './fake-twitch.helix-store.js';
import type { FakeTokenInfo, FakeTwitchResponse } from './fake-twitch.types.js';

/** Twitch's WebSocket limits per client id and user: sockets with enabled subscriptions, enabled subscriptions per socket, total cost. */
export const WEBSOCKET_MAX_SOCKETS = 3;
export const WEBSOCKET_MAX_SUBSCRIPTIONS_PER_SOCKET = 300;
export const WEBSOCKET_MAX_TOTAL_COST = 10;

/**
 * Types any token may subscribe to for any broadcaster (no authorization
 * needed); they cost 1 unless the condition names the token's own user.
 * Every other type needs the token of the user the condition names, and costs 0.
 */
const OPEN_TYPES: ReadonlySet<string> = new Set(['stream.online', 'stream.offline', 'channel.update', 'channel.raid', 'user.update']);

/** A parsed `POST /eventsub/subscriptions` body. */
export interface FakeCreateSubscriptionBody {
  type: string;
  version: string;
  condition: Record<string, string>;
  transport: { method: 'webhook' | 'websocket' | 'conduit'; callback?: string; secret?: string; session_id?: string; conduit_id?: string };
}

/** Helix's list answer (`data`, `total`, `total_cost`, `max_total_cost`). */
export function subscriptionList(
  data: WireEventSubSubscription[],
  summary: { total: number; totalCost: number },
  maxTotalCost: number,
): WireEventSubSubscriptionList {
  return { data, total: summary.total, total_cost: summary.totalCost, max_total_cost: maxTotalCost };
}

/**
 * The user a type's authorization comes from: the moderator when the
 * condition names one (e.g. `channel.follow` v2), else the user (e.g.
 * `channel.chat.message`), else the broadcaster.
 */
function authorizingUser(condition: Record<string, string>): string | undefined {
  return condition.moderator_user_id ?? condition.user_id ?? condition.broadcaster_user_id ?? condition.to_broadcaster_user_id;
}

/**
 * `transport.method = "websocket"`: a user token (400 otherwise, as Twitch
 * words it), a session that is still open and serves only that user, the
 * condition's user for types that need authorization (403), no duplicate on
 * the session (409) and Twitch's limits (429).
 */
export function createWebSocketSubscription(
  context: FakeTwitchContext,
  hub: FakeEventSubHub,
  auth: FakeTokenInfo,
  body: FakeCreateSubscriptionBody,
): FakeTwitchResponse {
  if (auth.kind !== 'user' || auth.userId === null) return twitchErrorResponse(400, 'invalid transport and auth combination');
  const userId = auth.userId;
  const sessionId = body.transport.session_id!;
  const session = hub.sockets.get(sessionId);
  if (!session || session.status === 'closed')
    return twitchErrorResponse(400, 'websocket transport session does not exist or has already disconnected');
  if (session.userId !== null && session.userId !== userId)
    return twitchErrorResponse(400, 'websocket transport cannot have subscriptions created by different users');
  const open = OPEN_TYPES.has(body.type);
  const namesUser = Object.values(body.condition).includes(userId);
  if (!open && authorizingUser(body.condition) !== userId) return twitchErrorResponse(403, 'subscription missing proper authorization');
  const cost = open && !namesUser ? 1 : 0;

  const store = eventSubStateOf(context).subscriptions;
  const transport: WireEventSubTransport = { method: 'websocket', session_id: sessionId };
  if (store.findDuplicate(body.type, body.version, body.condition, transport))
    return twitchErrorResponse(409, 'subscription already exists');

  let totalCost = cost;
  let onThisSocket = 0;
  const sockets = new Set<string>();
  for (const record of store.all()) {
    const { subscription } = record;
    if (record.userId !== userId || subscription.transport.method !== 'websocket' || subscription.status !== 'enabled') continue;
    totalCost += subscription.cost;
    sockets.add(subscription.transport.session_id!);
    if (subscription.transport.session_id === sessionId) onThisSocket++;
  }
  if (!sockets.has(sessionId) && sockets.size >= WEBSOCKET_MAX_SOCKETS)
    return twitchErrorResponse(429, 'number of websocket transports limit exceeded');
  if (onThisSocket >= WEBSOCKET_MAX_SUBSCRIPTIONS_PER_SOCKET)
    return twitchErrorResponse(429, 'number of subscriptions per websocket transport limit exceeded');
  if (totalCost > WEBSOCKET_MAX_TOTAL_COST) return twitchErrorResponse(429, 'websocket transport total cost exceeded');

  const record = store.create({
    type: body.type,
    version: body.version,
    condition: body.condition,
    transport: { ...transport, connected_at: session.connectedAt },
    userId,
    cost,
    now: context.options.now(),
  });
  session.used = true;
  session.userId = userId;
  const summary = store.summary({ kind: 'user', userId });
  return { status: 202, body: subscriptionList([structuredClone(record.subscription)], summary, WEBSOCKET_MAX_TOTAL_COST) };
}

/** `transport.method = "conduit"`: an app token (400 otherwise), an existing conduit (404), no duplicate (409). */
export function createConduitSubscription(
  context: FakeTwitchContext,
  auth: FakeTokenInfo,
  body: FakeCreateSubscriptionBody,
): FakeTwitchResponse {
  if (auth.kind !== 'app') return twitchErrorResponse(400, 'invalid transport and auth combination');
  const state = eventSubStateOf(context);
  const conduitId = body.transport.conduit_id!;
  if (!state.conduits.get(conduitId)) return twitchErrorResponse(400, 'conduit not found');
  const transport: WireEventSubTransport = { method: 'conduit', conduit_id: conduitId };
  if (state.subscriptions.findDuplicate(body.type, body.version, body.condition, transport))
    return twitchErrorResponse(409, 'subscription already exists');
  const record = state.subscriptions.create({ ...body, transport, now: context.options.now() });
  const summary = state.subscriptions.summary({ kind: 'app' });
  return { status: 202, body: subscriptionList([structuredClone(record.subscription)], summary, FAKE_MAX_TOTAL_COST) };
}
