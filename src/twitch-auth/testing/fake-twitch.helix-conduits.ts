import { randomUUID } from 'node:crypto';
import type { WireEventSubConduit, WireEventSubConduitShard } from '../twitch/eventsub-wire.types.js';
import { EventSubSender } from './eventsub-sender.js';
import type { FakeTwitchContext } from './fake-twitch.context.js';
import { MAX_CONDUITS, MAX_SHARDS, wireShard, type FakeConduit } from './fake-twitch.conduits.js';
import type { FakeEventSubHub } from './fake-twitch.eventsub-hub.js';
import { eventSubStateOf } from './fake-twitch.eventsub-state.js';
import { authenticateHelix } from './fake-twitch.helix-chat.js';
import { twitchErrorResponse } from './fake-twitch.server.js';
import type { FakeTwitchRequest, FakeTwitchResponse, FakeTwitchRoute } from './fake-twitch.types.js';

const CONDUITS_PATH = '/helix/eventsub/conduits';
const SHARDS_PATH = '/helix/eventsub/conduits/shards';
/** Shards per page of `GET /eventsub/conduits/shards`. */
const SHARD_PAGE = 100;
/** How long FakeTwitch waits for a webhook shard to answer its challenge. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** One failed shard of `PATCH /eventsub/conduits/shards`, as Twitch reports it beside the ones that worked. */
interface ShardError {
  id: string;
  message: string;
  code: string;
}

/**
 * Helix's conduit endpoints, app token only: create (at most 5 per app,
 * 1–20,000 shards), list, resize, delete (the conduit's subscriptions end
 * with `conduit_deleted`), associate shards (WebSocket sessions that are
 * still open, or webhooks that pass the signed challenge; per-shard failures
 * in `errors`) and list shards (`status` filter, pages of 100 with `after`).
 */
export function helixConduitRoutes(context: FakeTwitchContext, hub: FakeEventSubHub): FakeTwitchRoute[] {
  const route = (
    method: FakeTwitchRoute['method'],
    path: string,
    handle: (request: FakeTwitchRequest) => Promise<FakeTwitchResponse> | FakeTwitchResponse,
  ) => ({
    method,
    path,
    endpoint: 'helix' as const,
    handle: (request: FakeTwitchRequest) => {
      const auth = authenticateHelix(context, request.headers);
      if ('status' in auth) return auth;
      if (auth.kind !== 'app') return twitchErrorResponse(401, 'Invalid OAuth token: conduits need an app access token');
      return handle(request);
    },
  });
  const conduits = () => eventSubStateOf(context).conduits;
  return [
    route('POST', CONDUITS_PATH, ({ json }) => {
      const shardCount = shardCountOf(json);
      if (shardCount === null) return twitchErrorResponse(400, `shard_count must be a whole number from 1 to ${MAX_SHARDS}`);
      if (conduits().size >= MAX_CONDUITS) return twitchErrorResponse(429, 'conduit limit reached');
      return { status: 200, body: { data: [wireConduit(conduits().create(shardCount))] } };
    }),
    route('GET', CONDUITS_PATH, () => ({ status: 200, body: { data: conduits().list().map(wireConduit) } })),
    route('PATCH', CONDUITS_PATH, ({ json }) => {
      const id = isObject(json) && typeof json.id === 'string' ? json.id : '';
      const shardCount = shardCountOf(json);
      if (!id) return twitchErrorResponse(400, 'Missing required parameter "id"');
      if (shardCount === null) return twitchErrorResponse(400, `shard_count must be a whole number from 1 to ${MAX_SHARDS}`);
      const conduit = conduits().get(id);
      if (!conduit) return twitchErrorResponse(404, 'conduit not found');
      conduits().resize(conduit, shardCount);
      return { status: 200, body: { data: [wireConduit(conduit)] } };
    }),
    route('DELETE', CONDUITS_PATH, ({ query }) => {
      if (!query.id) return twitchErrorResponse(400, 'Missing required parameter "id"');
      if (!conduits().delete(query.id)) return twitchErrorResponse(404, 'conduit not found');
      for (const { subscription } of eventSubStateOf(context).subscriptions.all()) {
        if (subscription.transport.conduit_id === query.id) subscription.status = 'conduit_deleted';
      }
      return { status: 204 };
    }),
    route('PATCH', SHARDS_PATH, ({ json }) => updateShards(context, hub, json)),
    route('GET', SHARDS_PATH, ({ query }) => {
      const conduit = query.conduit_id ? conduits().get(query.conduit_id) : undefined;
      if (!query.conduit_id) return twitchErrorResponse(400, 'Missing required parameter "conduit_id"');
      if (!conduit) return twitchErrorResponse(404, 'conduit not found');
      const offset = query.after === undefined ? 0 : Number.parseInt(Buffer.from(query.after, 'base64url').toString('utf8'), 10);
      if (!Number.isInteger(offset) || offset < 0) return twitchErrorResponse(400, 'invalid cursor');
      const matching = conduit.shards.filter((shard) => query.status === undefined || shard.status === query.status);
      const page = matching.slice(offset, offset + SHARD_PAGE).map(wireShard);
      const more = offset + SHARD_PAGE < matching.length;
      return {
        status: 200,
        body: { data: page, pagination: more ? { cursor: Buffer.from(String(offset + SHARD_PAGE)).toString('base64url') } : {} },
      };
    }),
  ];
}

async function updateShards(context: FakeTwitchContext, hub: FakeEventSubHub, json: unknown): Promise<FakeTwitchResponse> {
  if (!isObject(json) || typeof json.conduit_id !== 'string' || !Array.isArray(json.shards))
    return twitchErrorResponse(400, 'The parameters "conduit_id" and "shards" are required');
  const conduit = eventSubStateOf(context).conduits.get(json.conduit_id);
  if (!conduit) return twitchErrorResponse(404, 'conduit not found');
  const data: WireEventSubConduitShard[] = [];
  const errors: ShardError[] = [];
  for (const item of json.shards as unknown[]) {
    const outcome = await updateShard(hub, conduit, item);
    if ('code' in outcome) errors.push(outcome);
    else data.push(outcome);
  }
  return { status: 202, body: { data, errors } };
}

async function updateShard(hub: FakeEventSubHub, conduit: FakeConduit, item: unknown): Promise<WireEventSubConduitShard | ShardError> {
  const id = isObject(item) && typeof item.id === 'string' ? item.id : '';
  const shard = conduit.shards[Number(id)];
  if (!/^\d+$/.test(id) || !shard) return { id, message: 'shard id is outside the conduit range', code: 'invalid_parameter' };
  const transport = isObject(item) && isObject(item.transport) ? item.transport : {};
  if (transport.method === 'websocket') {
    const session = typeof transport.session_id === 'string' ? hub.sockets.get(transport.session_id) : undefined;
    if (!session || session.status === 'closed')
      return { id, message: 'websocket session not found or disconnected', code: 'invalid_parameter' };
    if (session.userId !== null) return { id, message: 'websocket session already has subscriptions of a user', code: 'invalid_parameter' };
    session.used = true;
    shard.transport = { method: 'websocket', session_id: session.id, connected_at: session.connectedAt };
    shard.secret = undefined;
    shard.status = 'enabled';
    return wireShard(shard);
  }
  if (transport.method === 'webhook') {
    const { callback, secret } = transport;
    if (typeof callback !== 'string' || !/^https?:\/\//.test(callback))
      return { id, message: 'invalid callback', code: 'invalid_parameter' };
    if (typeof secret !== 'string' || secret.length < 10 || secret.length > 100)
      return { id, message: 'secret must be 10 to 100 characters', code: 'invalid_parameter' };
    shard.transport = { method: 'webhook', callback };
    shard.secret = secret;
    shard.status = (await passesChallenge(callback, secret)) ? 'enabled' : 'webhook_callback_verification_failed';
    return wireShard(shard);
  }
  return { id, message: 'transport.method must be websocket or webhook', code: 'invalid_parameter' };
}

/** A webhook shard is verified like a webhook subscription: a signed challenge it must echo. */
async function passesChallenge(callback: string, secret: string): Promise<boolean> {
  try {
    const sender = new EventSubSender({ callbackUrl: callback, secret, timeoutMs: HANDSHAKE_TIMEOUT_MS });
    const result = await sender.challenge({ challenge: randomUUID(), type: 'conduit.shard.disabled' });
    return result.status === 200 && result.body === result.challenge;
  } catch {
    return false;
  }
}

function shardCountOf(json: unknown): number | null {
  const count = isObject(json) ? json.shard_count : undefined;
  return typeof count === 'number' && Number.isInteger(count) && count >= 1 && count <= MAX_SHARDS ? count : null;
}

function wireConduit(conduit: FakeConduit): WireEventSubConduit {
  return { id: conduit.id, shard_count: conduit.shards.length };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
