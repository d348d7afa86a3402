import fc from 'fast-check';
import { Agent, request } from 'node:http';
import { signEventSubMessage, type EventSubMount } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';
import { EVENTSUB_SECRET, settle } from './eventsub-support.js';

guardSecret(EVENTSUB_SECRET);

const RUNS = 10_000;
const MESSAGE_TYPES = ['notification', 'revocation', 'webhook_callback_verification'] as const;

interface Sent {
  headers: Record<string, string>;
  body: Buffer;
  /** Correct signature over a fresh timestamp: the only requests allowed to reach a handler. */
  valid: boolean;
  /** Valid, and shaped like Twitch's message for its type: must be accepted. */
  wellFormed: boolean;
  messageId: string | undefined;
  challenge: string | undefined;
}

const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 48 });
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const largeBody = Buffer.from(JSON.stringify({ subscription: { type: 'channel.follow' }, event: { pad: 'x'.repeat(150_000) } }));

/** Seconds from now, kept clear of the replay window's edges so clocks cannot make a case ambiguous. */
const offsetSeconds = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -580, max: 50 }) },
  { weight: 1, arbitrary: fc.integer({ min: -100_000, max: -620 }) },
  { weight: 1, arbitrary: fc.integer({ min: 70, max: 100_000 }) },
);

const subscription = fc.record({
  id: fc.uuid(),
  type: fc.oneof(fc.constantFrom('channel.follow', 'stream.online', 'channel.chat.message', 'channel.raid'), printable),
  version: fc.constantFrom('1', '2'),
  status: fc.constantFrom('enabled', 'authorization_revoked', 'webhook_callback_verification_pending'),
  condition: fc.dictionary(printable, printable, { maxKeys: 3 }),
});

/** A body Twitch could have sent for `type`, plus the challenge it carries (verifications only). */
const wellFormedBody = (type: (typeof MESSAGE_TYPES)[number]) =>
  fc
    .record({ subscription, event: fc.dictionary(printable, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), challenge: printable })
    .map((parts) => {
      if (type === 'notification') return { body: { subscription: parts.subscription, event: parts.event }, challenge: undefined };
      if (type === 'revocation') return { body: { subscription: parts.subscription }, challenge: undefined };
      return { body: { subscription: parts.subscription, challenge: parts.challenge }, challenge: parts.challenge };
    });

const randomBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ maxLength: 256 }).map((text) => Buffer.from(text)),
  fc.json({ maxDepth: 3 }).map((text) => Buffer.from(text)),
  wellFormedBody('notification').map(({ body }) => Buffer.from(JSON.stringify(body))),
  { weight: 1, arbitrary: fc.constant(largeBody) },
);

let nextValidId = 0;

/** Either a validly signed message (about one in five) or anything with headers missing, random or almost right. */
const requests: fc.Arbitrary<Sent> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc
      .record({ type: fc.constantFrom(...MESSAGE_TYPES), offset: offsetSeconds, shaped: fc.boolean() })
      .chain(({ type, offset, shaped }) =>
        (shaped ? wellFormedBody(type) : randomBody.map((body) => ({ body, challenge: undefined }))).map((b) => ({
          type,
          offset,
          shaped,
          ...b,
        })),
      )
      .map(({ type, offset, shaped, body, challenge }) => {
        const raw = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
        const messageId = `valid-${nextValidId++}`;
        const timestamp = new Date(Date.now() + offset * 1000).toISOString();
        const fresh = offset >= -580 && offset <= 50;
        const headers = {
          'content-type': 'application/json',
          'twitch-eventsub-message-id': messageId,
          'twitch-eventsub-message-type': type,
          'twitch-eventsub-message-timestamp': timestamp,
          'twitch-eventsub-message-signature': signEventSubMessage(EVENTSUB_SECRET, messageId, timestamp, raw),
        };
        return { headers, body: raw, valid: fresh, wellFormed: fresh && shaped, messageId: fresh ? messageId : undefined, challenge };
      }),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        id: fc.option(fc.oneof(fc.uuid(), printable), { nil: undefined }),
        type: fc.option(fc.oneof(fc.constantFrom(...MESSAGE_TYPES), printable), { nil: undefined }),
        timestamp: fc.option(
          fc.oneof(
            offsetSeconds.map((s) => new Date(Date.now() + s * 1000).toISOString()),
            printable,
          ),
          { nil: undefined },
        ),
        signature: fc.option(
          fc.oneof(
            hex(64).map((h) => `sha256=${h}`),
            hex(40).map((h) => `sha1=${h}`),
            printable,
          ),
          { nil: undefined },
        ),
        contentType: fc.option(
          fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream'),
          { nil: undefined },
        ),
        body: randomBody,
      })
      .map(({ id, type, timestamp, signature, contentType, body }) => {
        const headers: Record<string, string> = {};
        if (contentType !== undefined) headers['content-type'] = contentType;
        if (id !== undefined) headers['twitch-eventsub-message-id'] = id;
        if (type !== undefined) headers['twitch-eventsub-message-type'] = type;
        if (timestamp !== undefined) headers['twitch-eventsub-message-timestamp'] = timestamp;
        if (signature !== undefined) headers['twitch-eventsub-message-signature'] = signature;
        return { headers, body, valid: false, wellFormed: false, messageId: undefined, challenge: undefined };
      }),
  },
);

describe.each<EventSubMount>(['controller', 'direct'])('EventSub callback (mount %s) under random requests (property)', (mount) => {
  let fake: FakeTwitch;
  let t: TestApp;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    fake = await startFake();
    t = await createTestApp({ fake, listen: true, options: { eventSub: { secret: EVENTSUB_SECRET, mount } } });
  });
  afterAll(async () => {
    agent.destroy();
    await t.close();
    await fake.close();
  });

  function post(sent: Sent): Promise<{ status: number; body: string }> {
    const { hostname, port } = new URL(t.url);
    return new Promise((resolve, reject) => {
      const req = request({
        host: hostname,
        port,
        path: '/eventsub/callback',
        method: 'POST',
        agent,
        headers: { ...sent.headers, 'content-length': String(sent.body.length) },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(sent.body);
    });
  }

  it(`never answers 5xx and never dispatches without a valid signature (${RUNS} requests)`, async () => {
    const accepted = new Set<string>();
    const stats = { valid: 0, dispatchable: 0 };
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(requests, async (sent) => {
        const { status, body } = await post(sent);
        expect(status).toBeLessThan(500);
        if (!sent.valid) {
          expect(status === 200 || status === 204).toBe(false);
          return;
        }
        stats.valid++;
        if (sent.wellFormed) expect([200, 204]).toContain(status);
        if (status === 200) expect(body).toBe(sent.challenge);
        if (status === 204) {
          accepted.add(sent.messageId!);
          stats.dispatchable++;
        }
      }),
      { numRuns: RUNS },
    );
    await settle(300);
    const dispatched = t.events
      .filter((e) => e.name.startsWith('twitch.eventsub.'))
      .map((e) => (e.payload as { messageId: string }).messageId);
    const notificationIds = t.events.filter((e) => e.name === 'twitch.eventsub.notification' || e.name === 'twitch.eventsub.revocation');
    expect(dispatched.filter((id) => !accepted.has(id))).toEqual([]);
    expect(new Set(notificationIds.map((e) => (e.payload as { messageId: string }).messageId))).toEqual(accepted);
    expect(notificationIds).toHaveLength(accepted.size);
    expect(stats.valid).toBeGreaterThan(RUNS / 10);
    expect(stats.dispatchable).toBeGreaterThan(RUNS / 40);
    process.stdout.write(
      `EventSub property: ${RUNS} requests in ${Date.now() - started} ms; ${stats.valid} validly signed, ${stats.dispatchable} dispatched\n`,
    );
  });
});
