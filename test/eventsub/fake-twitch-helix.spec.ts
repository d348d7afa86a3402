import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventSubVerifier } from '../../src/twitch-auth/index.js';
import type { FakeTwitch, WireEventSubSubscription } from '../../src/twitch-auth/testing/index.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';

const SECRET = 'callback-secret-0123';
guardSecret(SECRET);

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in app callback that answers challenges the way `mode` says. */
async function startCallback(
  mode: 'correct' | 'wrong-body' | 'status-204',
): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      deliveries.push({ headers: req.headers, body });
      const { challenge } = JSON.parse(body) as { challenge: string };
      if (mode === 'status-204') res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(mode === 'correct' ? challenge : `${challenge}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/cb`, deliveries, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('FakeTwitch Helix EventSub subscriptions', () => {
  let fake: FakeTwitch;
  let appToken: string;
  const helix = (method: string, query = '', body?: unknown, token: string | null = appToken, clientId: string | null = 'fake-client-id') =>
    fetch(`${fake.helixBaseUrl}/eventsub/subscriptions${query}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(clientId ? { 'client-id': clientId } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const createBody = (callback: string, condition: Record<string, string> = { broadcaster_user_id: '42' }) => ({
    type: 'stream.online',
    version: '1',
    condition,
    transport: { method: 'webhook', callback, secret: SECRET },
  });

  beforeEach(async () => {
    fake = await startFake();
    appToken = fake.issueAppToken().accessToken;
  });
  afterEach(() => fake.close());

  it("creates (202 with Twitch's shape), performs a signed handshake, and enables the subscription", async () => {
    const callback = await startCallback('correct');
    try {
      const response = await helix('POST', '', createBody(callback.url));
      expect(response.status).toBe(202);
      const answer = (await response.json()) as {
        data: WireEventSubSubscription[];
        total: number;
        total_cost: number;
        max_total_cost: number;
      };
      expect(answer).toMatchObject({ total: 1, total_cost: 1, max_total_cost: 10000 });
      expect(answer.data[0]).toMatchObject({
        status: 'webhook_callback_verification_pending',
        type: 'stream.online',
        transport: { method: 'webhook', callback: callback.url },
      });
      expect(JSON.stringify(answer)).not.toContain(SECRET);

      expect(callback.deliveries).toHaveLength(1);
      const [{ headers, body }] = callback.deliveries;
      expect(headers['twitch-eventsub-message-type']).toBe('webhook_callback_verification');
      expect(headers['twitch-eventsub-subscription-type']).toBe('stream.online');
      expect(headers['twitch-eventsub-message-timestamp']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
      const verified = new EventSubVerifier({ secrets: [SECRET] }).verify({
        messageId: String(headers['twitch-eventsub-message-id']),
        timestamp: String(headers['twitch-eventsub-message-timestamp']),
        signature: String(headers['twitch-eventsub-message-signature']),
        rawBody: Buffer.from(body),
      });
      expect(verified.ok).toBe(true);
      expect(JSON.parse(body).subscription.id).toBe(answer.data[0].id);

      const listed = (await (await helix('GET')).json()) as { data: WireEventSubSubscription[] };
      expect(listed.data.map((s) => s.status)).toEqual(['enabled']);
    } finally {
      await callback.close();
    }
  });

  it.each(['wrong-body', 'status-204'] as const)('marks the subscription failed when the callback answers %s', async (mode) => {
    const callback = await startCallback(mode);
    try {
      expect((await helix('POST', '', createBody(callback.url))).status).toBe(202);
      const listed = (await (await helix('GET')).json()) as { data: WireEventSubSubscription[] };
      expect(listed.data.map((s) => s.status)).toEqual(['webhook_callback_verification_failed']);
    } finally {
      await callback.close();
    }
  });

  it('marks it failed when the callback is unreachable', async () => {
    expect((await helix('POST', '', createBody('http://127.0.0.1:1/nothing-here'))).status).toBe(202);
    const listed = (await (await helix('GET')).json()) as { data: WireEventSubSubscription[] };
    expect(listed.data[0].status).toBe('webhook_callback_verification_failed');
  });

  it('answers 409 for the same type, version, condition and callback, unless the first one failed', async () => {
    const callback = await startCallback('correct');
    try {
      expect((await helix('POST', '', createBody(callback.url))).status).toBe(202);
      const duplicate = await helix('POST', '', createBody(callback.url));
      expect(duplicate.status).toBe(409);
      expect(await duplicate.json()).toEqual({ status: 409, message: 'subscription already exists' });
      expect((await helix('POST', '', createBody(callback.url, { broadcaster_user_id: '43' }))).status).toBe(202);
      expect((await helix('POST', '', createBody('http://127.0.0.1:1/x'))).status).toBe(202);
      expect((await helix('POST', '', createBody('http://127.0.0.1:1/x'))).status).toBe(202);
    } finally {
      await callback.close();
    }
  });

  it('requires a valid token with its own Client-Id (401 otherwise); webhooks need the app token', async () => {
    const user = fake.issueToken({ userId: '42', scopes: [] }).accessToken;
    const statuses = [
      (await helix('GET', '', undefined, null)).status,
      (await helix('GET', '', undefined, 'not-a-token')).status,
      (await helix('POST', '', createBody('http://127.0.0.1:1/x'), user)).status,
      (await helix('GET', '', undefined, appToken, null)).status,
      (await helix('GET', '', undefined, appToken, 'other-client')).status,
    ];
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    // A user token lists only the WebSocket subscriptions that user created: none here.
    await helix('POST', '', createBody('http://127.0.0.1:1/x'));
    const asUser = await helix('GET', '', undefined, user);
    expect(asUser.status).toBe(200);
    expect(((await asUser.json()) as { data: unknown[] }).data).toEqual([]);
    fake.revokeToken(appToken);
    expect((await helix('GET')).status).toBe(401);
  });

  it('answers 400 for malformed create bodies', async () => {
    const good = createBody('http://127.0.0.1:1/cb');
    const bad: unknown[] = [
      'not json',
      { ...good, type: '' },
      { ...good, version: 1 },
      { ...good, condition: {} },
      { ...good, condition: { broadcaster_user_id: 42 } },
      { ...good, transport: { ...good.transport, method: 'websocket' } },
      { ...good, transport: { ...good.transport, callback: 'ftp://example.com' } },
      { ...good, transport: { ...good.transport, secret: 'short' } },
      { ...good, transport: { ...good.transport, secret: 'x'.repeat(101) } },
    ];
    for (const body of bad) expect((await helix('POST', '', body)).status).toBe(400);
    expect(((await (await helix('GET')).json()) as { data: unknown[] }).data).toEqual([]);
  });

  it('pages with first and after, filters by one field at a time, and deletes with 204/404/400', async () => {
    for (let i = 0; i < 5; i++) await helix('POST', '', createBody('http://127.0.0.1:1/x', { broadcaster_user_id: String(i) }));
    const ids: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = (await (await helix('GET', `?first=2${after ? `&after=${after}` : ''}`)).json()) as {
        data: WireEventSubSubscription[];
        pagination: { cursor?: string };
      };
      ids.push(...page.data.map((s) => s.id));
      after = page.pagination.cursor;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(5);
    expect((await helix('GET', '?first=0')).status).toBe(400);
    expect((await helix('GET', '?after=garbage')).status).toBe(400);
    expect((await helix('GET', '?type=stream.online&status=enabled')).status).toBe(400);
    expect(((await (await helix('GET', '?user_id=3')).json()) as { data: unknown[] }).data).toHaveLength(1);

    expect((await helix('DELETE', `?id=${ids[0]}`)).status).toBe(204);
    expect((await helix('DELETE', `?id=${ids[0]}`)).status).toBe(404);
    expect((await helix('DELETE')).status).toBe(400);
    expect(((await (await helix('GET')).json()) as { total: number }).total).toBe(4);
  });

  it('forgets subscriptions on reset()', async () => {
    await helix('POST', '', createBody('http://127.0.0.1:1/x'));
    fake.reset();
    appToken = fake.issueAppToken().accessToken;
    expect(((await (await helix('GET')).json()) as { data: unknown[] }).data).toEqual([]);
  });
});
