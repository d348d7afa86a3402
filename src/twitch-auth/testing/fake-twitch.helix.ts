import { randomUUID } from 'node:crypto';
import type { WireEventSubSubscriptionList } from '../twitch/eventsub-wire.types.js';
import type { FakeTwitchStore } from './fake-twitch.store.js';
import type { FakeTwitchRequest, FakeTwitchResponse, FakeTwitchRoute } from './fake-twitch.types.js';
import type { FakeTwitchContext } from './fake-twitch.context.js';
import { twitchErrorResponse } from './fake-twitch.server.js';
import { FAKE_MAX_TOTAL_COST, FakeEventSubStore, type FakeSubscriptionFilter } from './fake-twitch.helix-store.js';
import { EventSubSender } from './eventsub-sender.js';

const SUBSCRIPTIONS_PATH = '/helix/eventsub/subscriptions';

/** How long FakeTwitch waits for the app to answer its challenge. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Subscriptions live beside the token store they were created under, so
 * `FakeTwitch.reset()` (which swaps the token store) forgets them too.
 */
const subscriptionStores = new WeakMap<FakeTwitchStore, FakeEventSubStore>();

function subscriptionsOf(context: FakeTwitchContext): FakeEventSubStore {
  let store = subscriptionStores.get(context.store);
  if (!store) {
    store = new FakeEventSubStore();
    subscriptionStores.set(context.store, store);
  }
  return store;
}

/**
 * Helix's EventSub subscription endpoints with Twitch's shapes and errors:
 * create (202, 409 on a duplicate, then the signed callback handshake),
 * list (filters, `first`/`after` pagination) and delete (204). Every call
 * needs an app access token and the matching `Client-Id`.
 */
export function helixRoutes(context: FakeTwitchContext): FakeTwitchRoute[] {
  return [
    { method: 'POST', path: SUBSCRIPTIONS_PATH, endpoint: 'helix', handle: (request) => createSubscription(context, request) },
    { method: 'GET', path: SUBSCRIPTIONS_PATH, endpoint: 'helix', handle: (request) => listSubscriptions(context, request) },
    { method: 'DELETE', path: SUBSCRIPTIONS_PATH, endpoint: 'helix', handle: (request) => deleteSubscription(context, request) },
  ];
}

/** Twitch's 401 unless the request carries a live app token and its own client id. */
function checkAppToken(context: FakeTwitchContext, headers: Record<string, string>): FakeTwitchResponse | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  if (!match) return twitchErrorResponse(401, 'OAuth token is missing');
  const info = context.store.tokenInfo(match[1]);
  if (!info || !context.store.isValid(match[1])) return twitchErrorResponse(401, 'Invalid OAuth token');
  if (!headers['client-id']) return twitchErrorResponse(401, 'Client-Id header required');
  if (headers['client-id'] !== info.clientId) return twitchErrorResponse(401, 'Client ID and OAuth token do not match');
  if (info.kind !== 'app') return twitchErrorResponse(401, 'Invalid OAuth token: webhook subscriptions need an app access token');
  return null;
}

async function createSubscription(context: FakeTwitchContext, { headers, json }: FakeTwitchRequest): Promise<FakeTwitchResponse> {
  const authError = checkAppToken(context, headers);
  if (authError) return authError;
  const body = parseCreateBody(json);
  if (typeof body === 'string') return twitchErrorResponse(400, body);
  const store = subscriptionsOf(context);
  if (store.findDuplicate(body.type, body.version, body.condition, body.callback))
    return twitchErrorResponse(409, 'subscription already exists');
  const record = store.create({ ...body, now: context.options.now() });
  const pending = structuredClone(record.subscription);
  // Twitch verifies the callback right after accepting; doing it before answering makes the outcome visible once subscribe returns.
  const verified = await performHandshake(record.subscription.transport.callback!, body.secret, pending);
  store.setStatus(record.subscription.id, verified ? 'enabled' : 'webhook_callback_verification_failed');
  const answer: WireEventSubSubscriptionList = {
    data: [pending],
    total: store.total,
    total_cost: store.totalCost,
    max_total_cost: FAKE_MAX_TOTAL_COST,
  };
  return { status: 202, body: answer };
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
  const authError = checkAppToken(context, headers);
  if (authError) return authError;
  const filters = ['status', 'type', 'user_id'].filter((name) => query[name] !== undefined);
  if (filters.length > 1) return twitchErrorResponse(400, 'only one of status, type and user_id may be given');
  const first = query.first === undefined ? 100 : Number(query.first);
  if (!Number.isInteger(first) || first < 1 || first > 100) return twitchErrorResponse(400, 'first must be between 1 and 100');
  const offset = query.after === undefined ? 0 : decodeCursor(query.after);
  if (offset === null) return twitchErrorResponse(400, 'invalid cursor');
  const filter: FakeSubscriptionFilter = {
    status: query.status,
    type: query.type,
    userId: query.user_id,
    subscriptionId: query.subscription_id,
  };
  const store = subscriptionsOf(context);
  const matching = store.list(filter);
  const page = matching.slice(offset, offset + first);
  const more = offset + first < matching.length;
  const answer: WireEventSubSubscriptionList = {
    data: page,
    total: store.total,
    total_cost: store.totalCost,
    max_total_cost: FAKE_MAX_TOTAL_COST,
    pagination: more ? { cursor: encodeCursor(offset + first) } : {},
  };
  return { status: 200, body: answer };
}

function deleteSubscription(context: FakeTwitchContext, { headers, query }: FakeTwitchRequest): FakeTwitchResponse {
  const authError = checkAppToken(context, headers);
  if (authError) return authError;
  if (!query.id) return twitchErrorResponse(400, 'Missing required parameter "id"');
  return subscriptionsOf(context).delete(query.id) ? { status: 204 } : twitchErrorResponse(404, 'subscription not found');
}

interface CreateBody {
  type: string;
  version: string;
  condition: Record<string, string>;
  callback: string;
  secret: string;
}

/** The body of a create request, or Twitch-style text saying what is wrong with it. */
function parseCreateBody(json: unknown): CreateBody | string {
  if (!isObject(json)) return 'request body must be JSON';
  const { type, version, condition, transport } = json;
  if (typeof type !== 'string' || type === '') return 'The parameter "type" was malformed: the value must be a string';
  if (typeof version !== 'string' || version === '') return 'The parameter "version" was malformed: the value must be a string';
  if (!isObject(condition) || Object.keys(condition).length === 0 || !Object.values(condition).every((v) => typeof v === 'string')) {
    return 'The parameter "condition" was malformed';
  }
  if (!isObject(transport)) return 'The parameter "transport" was malformed';
  if (transport.method !== 'webhook') return 'The parameter "transport.method" was malformed: only webhook is supported here';
  const { callback, secret } = transport;
  if (typeof callback !== 'string' || !isHttpUrl(callback)) return 'The parameter "transport.callback" was malformed';
  if (typeof secret !== 'string' || secret.length < 10 || secret.length > 100)
    return 'The parameter "transport.secret" was malformed: 10 to 100 characters';
  return { type, version, condition: condition as Record<string, string>, callback, secret };
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
