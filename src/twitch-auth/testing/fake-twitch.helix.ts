import { randomUUID } from 'node:crypto';
import type { WireEventSubSubscriptionList } from '../twitch/eventsub-wire.types.js';
import type { FakeTokenInfo, FakeTwitchRequest, FakeTwitchResponse, FakeTwitchRoute } from './fake-twitch.types.js';
import type { FakeTwitchContext } from './fake-twitch.context.js';
import { twitchErrorResponse } from './fake-twitch.server.js';
import { FAKE_MAX_TOTAL_COST, type FakeSubscriptionFilter, type FakeSubscriptionOwner } from './fake-twitch.helix-store.js';
import { EventSubSender } from './eventsub-sender.js';
import { authenticateHelix } from './fake-twitch.helix-chat.js';
import { eventSubStateOf } from './fake-twitch.eventsub-state.js';
import type { FakeEventSubHub } from './fake-twitch.eventsub-hub.js';
import {
  createConduitSubscription,
  createWebSocketSubscription,
  subscriptionList,
  WEBSOCKET_MAX_TOTAL_COST,
  type FakeCreateSubscriptionBody,
} from './fake-twitch.helix-ws-subscriptions.js';

const SUBSCRIPTIONS_PATH = '/helix/eventsub/subscriptions';

/** How long FakeTwitch waits for the app to answer its challenge. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Helix's EventSub subscription endpoints with Twitch's shapes and errors,
 * for every transport: webhook (app token; 202, then the signed callback
 * handshake), websocket (a user token of the condition's user, a live
 * session, Twitch's per-user limits) and conduit (app token, an existing
 * conduit). 409 on a duplicate. `GET` with an app token lists webhook and
 * conduit subscriptions; with a user token, the WebSocket subscriptions that
 * user created (as Twitch documents). `DELETE` answers 204.
 */
export function helixRoutes(context: FakeTwitchContext, hub: FakeEventSubHub): FakeTwitchRoute[] {
  return [
    { method: 'POST', path: SUBSCRIPTIONS_PATH, endpoint: 'helix', handle: (request) => createSubscription(context, hub, request) },
    { method: 'GET', path: SUBSCRIPTIONS_PATH, endpoint: 'helix', handle: (request) => listSubscriptions(context, request) },
    { method: 'DELETE', path: SUBSCRIPTIONS_PATH, endpoint: 'helix', handle: (request) => deleteSubscription(context, request) },
  ];
}

async function createSubscription(
  context: FakeTwitchContext,
  hub: FakeEventSubHub,
  { headers, json }: FakeTwitchRequest,
): Promise<FakeTwitchResponse> {
  const auth = authenticateHelix(context, headers);
  if ('status' in auth) return auth;
  const body = parseCreateBody(json);
  if (typeof body === 'string') return twitchErrorResponse(400, body);
  if (body.transport.method === 'websocket') return createWebSocketSubscription(context, hub, auth, body);
  if (body.transport.method === 'conduit') return createConduitSubscription(context, auth, body);
  if (auth.kind !== 'app') return twitchErrorResponse(401, 'Invalid OAuth token: webhook subscriptions need an app access token');
  const { subscriptions: store } = eventSubStateOf(context);
  const transport = { method: 'webhook', callback: body.transport.callback };
  if (store.findDuplicate(body.type, body.version, body.condition, transport))
    return twitchErrorResponse(409, 'subscription already exists');
  const record = store.create({ ...body, transport, secret: body.transport.secret, now: context.options.now() });
  const pending = structuredClone(record.subscription);
  // Twitch verifies the callback right after accepting; doing it before answering makes the outcome visible once subscribe returns.
  const verified = await performHandshake(body.transport.callback!, body.transport.secret!, pending);
  store.setStatus(record.subscription.id, verified ? 'enabled' : 'webhook_callback_verification_failed');
  return { status: 202, body: subscriptionList([pending], store.summary({ kind: 'app' }), FAKE_MAX_TOTAL_COST) };
}

/** POSTs a signed challenge as Twitch does; true only for a 200 whose body is exactly the challenge. */
async function performHandshake(
  callback: string,
  secret: string,
  subscription: WireEventSubSubscriptionList['data'][number],
): Promise<boolean> {
  try {
    const sender = new EventSubSender({ callbackUrl: callback, secret, timeoutMs: HANDSHAKE_TIMEOUT_MS });
    const result = await sender.challenge({ challenge: randomUUID(), subscription });
    return result.status === 200 && result.body === result.challenge;
  } catch {
    return false;
  }
}

function listSubscriptions(context: FakeTwitchContext, { headers, query }: FakeTwitchRequest): FakeTwitchResponse {
  const auth = authenticateHelix(context, headers);
  if ('status' in auth) return auth;
  const filters = ['status', 'type', 'user_id'].filter((name) => query[name] !== undefined);
  if (filters.length > 1) return twitchErrorResponse(400, 'only one of status, type and user_id may be given');
  const first = query.first === undefined ? 100 : Number(query.first);
  if (!Number.isInteger(first) || first < 1 || first > 100) return twitchErrorResponse(400, 'first must be between 1 and 100');
  const offset = query.after === undefined ? 0 : decodeCursor(query.after);
  if (offset === null) return twitchErrorResponse(400, 'invalid cursor');
  const owner = ownerOf(auth);
  const filter: FakeSubscriptionFilter = {
    status: query.status,
    type: query.type,
    userId: query.user_id,
    subscriptionId: query.subscription_id,
    owner,
  };
  const store = eventSubStateOf(context).subscriptions;
  const matching = store.list(filter);
  const page = matching.slice(offset, offset + first);
  const more = offset + first < matching.length;
  const answer = subscriptionList(page, store.summary(owner), owner.kind === 'user' ? WEBSOCKET_MAX_TOTAL_COST : FAKE_MAX_TOTAL_COST);
  return { status: 200, body: { ...answer, pagination: more ? { cursor: encodeCursor(offset + first) } : {} } };
}

function deleteSubscription(context: FakeTwitchContext, { headers, query }: FakeTwitchRequest): FakeTwitchResponse {
  const auth = authenticateHelix(context, headers);
  if ('status' in auth) return auth;
  if (!query.id) return twitchErrorResponse(400, 'Missing required parameter "id"');
  const store = eventSubStateOf(context).subscriptions;
  // A token only sees (and so only deletes) its own kind of subscriptions: the app's, or the user's WebSocket ones.
  const visible = store.list({ subscriptionId: query.id, owner: ownerOf(auth) }).length > 0;
  return visible && store.delete(query.id) ? { status: 204 } : twitchErrorResponse(404, 'subscription not found');
}

/** The body of a create request, or Twitch-style text saying what is wrong with it. */
function parseCreateBody(json: unknown): FakeCreateSubscriptionBody | string {
  if (!isObject(json)) return 'request body must be JSON';
  const { type, version, condition, transport } = json;
  if (typeof type !== 'string' || type === '') return 'The parameter "type" was malformed: the value must be a string';
  if (typeof version !== 'string' || version === '') return 'The parameter "version" was malformed: the value must be a string';
  if (!isObject(condition) || Object.keys(condition).length === 0 || !Object.values(condition).every((v) => typeof v === 'string')) {
    return 'The parameter "condition" was malformed';
  }
  if (!isObject(transport)) return 'The parameter "transport" was malformed';
  const base = { type, version, condition: condition as Record<string, string> };
  if (transport.method === 'websocket') {
    const sessionId = transport.session_id;
    if (typeof sessionId !== 'string' || sessionId === '') return 'The parameter "transport.session_id" was malformed';
    return { ...base, transport: { method: 'websocket', session_id: sessionId } };
  }
  if (transport.method === 'conduit') {
    const conduitId = transport.conduit_id;
    if (typeof conduitId !== 'string' || conduitId === '') return 'The parameter "transport.conduit_id" was malformed';
    return { ...base, transport: { method: 'conduit', conduit_id: conduitId } };
  }
  if (transport.method !== 'webhook') return 'The parameter "transport.method" was malformed: webhook, websocket or conduit';
  const { callback, secret } = transport;
  if (typeof callback !== 'string' || !isHttpUrl(callback)) return 'The parameter "transport.callback" was malformed';
  if (typeof secret !== 'string' || secret.length < 10 || secret.length > 100)
    return 'The parameter "transport.secret" was malformed: 10 to 100 characters';
  return { ...base, transport: { method: 'webhook', callback, secret } };
}

function ownerOf(auth: FakeTokenInfo): FakeSubscriptionOwner {
  return auth.kind === 'app' ? { kind: 'app' } : { kind: 'user', userId: auth.userId! };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number | null {
  try {
    const offset = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown }).o;
    return typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 ? offset : null;
  } catch {
    return null;
  }
}
