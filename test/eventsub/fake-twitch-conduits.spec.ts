import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSubVerifier } from '../../src/twitch-auth/index.js';
import type { FakeTwitch, WireEventSubConduitShard, WireEventSubWsMessage } from '../../src/twitch-auth/testing/index.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';
import { connectEventSub, waitFor, type RawEventSubClient } from './eventsub-ws-client.js';

const SECRET = 'shard-secret-0123456';
guardSecret(SECRET);

/** A webhook shard: answers challenges, and notifications with `status` (changeable), keeping what it got. */
async function startWebhookShard(): Promise<{
  url: string;
  received: IncomingMessage['headers'][];
  status: { value: number };
  close(): Promise<void>;
}> {
  const received: IncomingMessage['headers'][] = [];
  const status = { value: 204 };
  const verifier = new EventSubVerifier({ secrets: [SECRET] });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const headers = req.headers;
      const verified = verifier.verify({
        messageId: String(headers['twitch-eventsub-message-id']),
        timestamp: String(headers['twitch-eventsub-message-timestamp']),
        signature: String(headers['twitch-eventsub-message-signature']),
        rawBody,
      });
      if (!verified.ok) return void res.writeHead(403).end();
      if (headers['twitch-eventsub-message-type'] === 'webhook_callback_verification') {
        return void res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end((JSON.parse(rawBody.toString('utf8')) as { challenge: string }).challenge);
      }
      received.push(headers);
      res.writeHead(status.value).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/shard`, received, status, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('FakeTwitch conduits', () => {
  let fake: FakeTwitch;
  let app: string;
  const clients: RawEventSubClient[] = [];
  const helix = (method: string, path: string, body?: unknown, token = app) =>
    fetch(`${fake.helixBaseUrl}/eventsub/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'client-id': fake.clientId, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const json = async <T>(response: Response | Promise<Response>): Promise<T> => (await (await response).json()) as T;
  const socket = async (): Promise<{ client: RawEventSubClient; sessionId: string }> => {
    const client = await connectEventSub(fake.eventSubWebSocketUrl);
    clients.push(client);
    return { client, sessionId: (await client.next('session_welcome')).payload.session!.id };
  };
  const createConduit = async (shardCount: number): Promise<string> =>
    (await json<{ data: { id: string }[] }>(helix('POST', 'conduits', { shard_count: shardCount }))).data[0].id;
  const subscribeConduit = (conduitId: string, type: string, condition: Record<string, string>) =>
    helix('POST', 'subscriptions', { type, version: '1', condition, transport: { method: 'conduit', conduit_id: conduitId } });

  beforeEach(async () => {
    fake = await startFake({ eventSubWelcomeTimeoutMs: 60_000 });
    app = fake.issueAppToken().accessToken;
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await fake.close();
  });

  it('creates (1 to 20000 shards, 5 per app), lists, resizes and deletes conduits with an app token', async () => {
    expect((await helix('POST', 'conduits', { shard_count: 0 })).status).toBe(400);
    expect((await helix('POST', 'conduits', { shard_count: 20_001 })).status).toBe(400);
    const user = fake.issueToken({ userId: '42', scopes: [] }).accessToken;
    expect((await helix('POST', 'conduits', { shard_count: 1 }, user)).status).toBe(401);
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await createConduit(i));
    expect((await helix('POST', 'conduits', { shard_count: 1 })).status).toBe(429);
    expect((await json<{ data: { id: string; shard_count: number }[] }>(helix('GET', 'conduits'))).data).toEqual(
      ids.map((id, i) => ({ id, shard_count: i + 1 })),
    );
    expect(await json(helix('PATCH', 'conduits', { id: ids[0], shard_count: 20_000 }))).toEqual({
      data: [{ id: ids[0], shard_count: 20_000 }],
    });
    expect((await helix('PATCH', 'conduits', { id: 'nope', shard_count: 2 })).status).toBe(404);
    expect((await subscribeConduit(ids[1], 'stream.online', { broadcaster_user_id: '42' })).status).toBe(202);
    expect((await subscribeConduit(ids[1], 'stream.online', { broadcaster_user_id: '42' })).status).toBe(409);
    expect((await helix('DELETE', `conduits?id=${ids[1]}`)).status).toBe(204);
    expect((await helix('DELETE', `conduits?id=${ids[1]}`)).status).toBe(404);
    expect(fake.eventSubSubscriptions()[0].status).toBe('conduit_deleted');
    expect((await subscribeConduit(ids[1], 'stream.online', { broadcaster_user_id: '42' })).status).toBe(400);
    expect(fake.conduits().map((conduit) => conduit.shardCount)).toEqual([20_000, 3, 4, 5]);
  });

  it('associates WebSocket shards, reports bad ones in errors, and lists shards by status in pages', async () => {
    const conduitId = await createConduit(150);
    const a = await socket();
    const b = await socket();
    const answer = await json<{ data: WireEventSubConduitShard[]; errors: { id: string; message: string; code: string }[] }>(
      helix('PATCH', 'conduits/shards', {
        conduit_id: conduitId,
        shards: [
          { id: '0', transport: { method: 'websocket', session_id: a.sessionId } },
          { id: '1', transport: { method: 'websocket', session_id: b.sessionId } },
          { id: '150', transport: { method: 'websocket', session_id: b.sessionId } },
          { id: '2', transport: { method: 'websocket', session_id: 'no-such-session' } },
        ],
      }),
    );
    expect(answer.data).toEqual([
      { id: '0', status: 'enabled', transport: { method: 'websocket', session_id: a.sessionId, connected_at: expect.any(String) } },
      { id: '1', status: 'enabled', transport: { method: 'websocket', session_id: b.sessionId, connected_at: expect.any(String) } },
    ]);
    expect(answer.errors.map((error) => error.id)).toEqual(['150', '2']);
    const enabled = await json<{ data: WireEventSubConduitShard[] }>(
      helix('GET', `conduits/shards?conduit_id=${conduitId}&status=enabled`),
    );
    expect(enabled.data.map((shard) => shard.id)).toEqual(['0', '1']);
    const first = await json<{ data: WireEventSubConduitShard[]; pagination: { cursor?: string } }>(
      helix('GET', `conduits/shards?conduit_id=${conduitId}`),
    );
    expect(first.data).toHaveLength(100);
    const second = await json<{ data: WireEventSubConduitShard[]; pagination: { cursor?: string } }>(
      helix('GET', `conduits/shards?conduit_id=${conduitId}&after=${first.pagination.cursor}`),
    );
    expect(second.data).toHaveLength(50);
    expect(second.pagination).toEqual({});
    // Sessions serving shards count as used: no 4003 for them.
    expect(fake.eventSubSessions().every((session) => session.status === 'connected')).toBe(true);
  });

  it('spreads notifications over enabled shards, fails over when a shard socket closes, and reports conduit.shard.disabled', async () => {
    const conduitId = await createConduit(2);
    const a = await socket();
    const b = await socket();
    await helix('PATCH', 'conduits/shards', {
      conduit_id: conduitId,
      shards: [
        { id: '0', transport: { method: 'websocket', session_id: a.sessionId } },
        { id: '1', transport: { method: 'websocket', session_id: b.sessionId } },
      ],
    });
    expect((await subscribeConduit(conduitId, 'stream.online', { broadcaster_user_id: '42' })).status).toBe(202);
    expect((await subscribeConduit(conduitId, 'conduit.shard.disabled', { client_id: fake.clientId })).status).toBe(202);
    const before = await Promise.all([1, 2, 3, 4].map((n) => fake.publishEventSub('stream.online', '1', { n })));
    expect(before.flatMap((result) => result.deliveries.map((delivery) => delivery.shardId))).toEqual(['0', '1', '0', '1']);
    expect((await a.client.next('notification')).payload.subscription!.transport).toEqual({ method: 'conduit', conduit_id: conduitId });

    a.client.close();
    await waitFor(() => fake.conduits()[0].shards[0].status === 'websocket_disconnected');
    const isShardDown = (message: WireEventSubWsMessage) => message.metadata.subscription_type === 'conduit.shard.disabled';
    await waitFor(() => b.client.messages.some(isShardDown));
    const shardDown = b.client.messages.find(isShardDown)!;
    expect(shardDown.payload.event).toMatchObject({
      conduit_id: conduitId,
      shard_id: '0',
      status: 'websocket_disconnected',
      transport: { method: 'websocket', session_id: a.sessionId, disconnected_at: expect.any(String) },
    });
    const after = await Promise.all([5, 6, 7].map((n) => fake.publishEventSub('stream.online', '1', { n })));
    expect(after.flatMap((result) => result.deliveries.map((delivery) => [delivery.shardId, delivery.sessionId]))).toEqual([
      ['1', b.sessionId],
      ['1', b.sessionId],
      ['1', b.sessionId],
    ]);
  });

  it('delivers signed to webhook shards and disables a failing one, moving its message to another shard', async () => {
    const webhook = await startWebhookShard();
    try {
      const conduitId = await createConduit(2);
      const b = await socket();
      const answer = await json<{ data: WireEventSubConduitShard[] }>(
        helix('PATCH', 'conduits/shards', {
          conduit_id: conduitId,
          shards: [
            { id: '0', transport: { method: 'webhook', callback: webhook.url, secret: SECRET } },
            { id: '1', transport: { method: 'websocket', session_id: b.sessionId } },
          ],
        }),
      );
      expect(answer.data[0]).toEqual({ id: '0', status: 'enabled', transport: { method: 'webhook', callback: webhook.url } });
      await subscribeConduit(conduitId, 'stream.online', { broadcaster_user_id: '42' });
      const first = await fake.publishEventSub('stream.online', '1', { n: 1 });
      expect(first.deliveries).toEqual([
        expect.objectContaining({ transport: 'conduit', shardId: '0', callback: webhook.url, status: 204 }),
      ]);
      expect(webhook.received.map((headers) => headers['twitch-eventsub-message-id'])).toEqual(first.messageIds);
      await fake.publishEventSub('stream.online', '1', { n: 2 });
      webhook.status.value = 500;
      const failed = await fake.publishEventSub('stream.online', '1', { n: 3 });
      expect(failed.deliveries.map((delivery) => [delivery.shardId, delivery.status ?? null])).toEqual([
        ['0', 500],
        ['1', null],
      ]);
      expect(fake.conduits()[0].shards[0].status).toBe('notification_failures_exceeded');
      expect((await b.client.next('notification')).payload.event).toEqual({ n: 2 });
      expect((await b.client.next('notification')).payload.event).toEqual({ n: 3 });
    } finally {
      await webhook.close();
    }
  });
});
