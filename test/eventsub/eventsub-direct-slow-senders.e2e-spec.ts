import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect } from 'node:net';
import { TwitchAuthModule } from '../../src/twitch-auth/index.js';
import { EventSubSender, type FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { fakeOptions } from '../support/app.js';
import { captureLogger } from '../support/log-capture.js';
import { guardSecret, startFake } from '../support/secrets-guard.js';
import { EVENTSUB_SECRET, EventSubListener, eventSubOptions, eventually, followEvent, freePort, type Adapter } from './eventsub-support.js';

guardSecret(EVENTSUB_SECRET);

/** Connections opened at once per scenario: what grew the demo's memory by ~90 MB before headers were checked first. */
const CONNECTIONS = 100;
/** A bound no healthy run comes near; only a server that never answers reaches it. */
const GENEROUS_BOUND_MS = 20_000;
/** Short, so the test does not wait the default 10 s for every stalled sender. */
const BODY_TIMEOUT_MS = 300;

/** What one raw connection saw: the status line the server sent (if any) and whether the server closed it. */
interface RawOutcome {
  status: number | null;
  closedByServer: boolean;
}

/**
 * Sends `head` and `bodyStart`, then neither the rest of the declared body
 * nor an end: the client stalls, as a slow-loris sender does. Resolves when
 * the server closes the connection, or after the generous bound.
 */
function stalledPost(port: number, head: string, bodyStart: string): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let status: number | null = null;
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(head + '\r\n' + bodyStart));
    const guard = setTimeout(() => {
      socket.destroy();
      resolve({ status, closedByServer: false });
    }, GENEROUS_BOUND_MS);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (match) status = Number(match[1]);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ status, closedByServer: true });
    });
  });
}

function requestHead(port: number, headers: Record<string, string>): string {
  const lines = [`POST /eventsub/callback HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return lines.join('\r\n') + '\r\n';
}

function count(outcomes: RawOutcome[], predicate: (outcome: RawOutcome) => boolean): number {
  return outcomes.filter(predicate).length;
}

describe.each<Adapter>(['express', 'fastify'])("eventSub.mount 'direct' against slow and headerless senders on %s", (adapter) => {
  let fake: FakeTwitch;
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    fake = await startFake();
    port = await freePort();
    @Module({
      imports: [
        EventEmitterModule.forRoot(),
        TwitchAuthModule.forRoot(
          fakeOptions(fake, { eventSub: eventSubOptions(port, { mount: 'direct', bodyTimeoutMs: BODY_TIMEOUT_MS }) }),
        ),
      ],
      providers: [EventSubListener],
    })
    class SlowSendersModule {}
    const options = { logger: captureLogger, abortOnError: false };
    app =
      adapter === 'fastify'
        ? await NestFactory.create<NestFastifyApplication>(SlowSendersModule, new FastifyAdapter(), options)
        : await NestFactory.create(SlowSendersModule, options);
    await app.listen(port, '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('refuses POSTs without Twitch headers from their headers alone: answered and closed while most of the declared body was never sent', async () => {
    const head = requestHead(port, { 'Content-Type': 'application/json', 'Content-Length': String(1_000_000) });
    const outcomes = await Promise.all(Array.from({ length: CONNECTIONS }, () => stalledPost(port, head, '{"subscription":')));
    // The client never sends the other 999,984 bytes: an answer at all means the server did not wait for them.
    expect(count(outcomes, (o) => o.status === 403)).toBe(CONNECTIONS);
    expect(count(outcomes, (o) => o.closedByServer)).toBe(CONNECTIONS);
  }, 60_000);

  it("refuses a signature that cannot be Twitch's, a declared length over the limit and an unknown type, before the body", async () => {
    const twitchHeaders = (overrides: Record<string, string>) => ({
      'Content-Type': 'application/json',
      'Content-Length': '5000',
      'Twitch-Eventsub-Message-Id': 'a-message-id',
      'Twitch-Eventsub-Message-Timestamp': new Date().toISOString(),
      'Twitch-Eventsub-Message-Signature': 'sha256=' + 'ab'.repeat(32),
      'Twitch-Eventsub-Message-Type': 'notification',
      ...overrides,
    });
    const cases: Array<[Record<string, string>, number]> = [
      [{ 'Twitch-Eventsub-Message-Signature': 'sha256=short' }, 403],
      [{ 'Twitch-Eventsub-Message-Signature': 'sha1=' + 'ab'.repeat(20) }, 403],
      [{ 'Content-Length': String(2 * 1024 * 1024) }, 413],
      [{ 'Twitch-Eventsub-Message-Type': 'gossip' }, 400],
      [{ 'Content-Type': 'text/plain' }, 415],
    ];
    const outcomes = await Promise.all(cases.map(([overrides]) => stalledPost(port, requestHead(port, twitchHeaders(overrides)), '{')));
    expect(outcomes.map((o) => o.status)).toEqual(cases.map(([, status]) => status));
    expect(count(outcomes, (o) => o.closedByServer)).toBe(cases.length);
  }, 60_000);

  it('closes connections that send valid-looking headers and then stall mid-body, once eventSub.bodyTimeoutMs has passed, and keeps serving', async () => {
    const head = requestHead(port, {
      'Content-Type': 'application/json',
      'Content-Length': '5000',
      'Twitch-Eventsub-Message-Id': 'a-message-id',
      'Twitch-Eventsub-Message-Timestamp': new Date().toISOString(),
      'Twitch-Eventsub-Message-Signature': 'sha256=' + 'ab'.repeat(32),
      'Twitch-Eventsub-Message-Type': 'notification',
    });
    const outcomes = await Promise.all(Array.from({ length: CONNECTIONS }, () => stalledPost(port, head, '{"subscription":')));
    expect(count(outcomes, (o) => o.closedByServer)).toBe(CONNECTIONS);
    expect(count(outcomes, (o) => o.status === 408)).toBe(CONNECTIONS);

    const sender = new EventSubSender({ callbackUrl: `http://127.0.0.1:${port}/eventsub/callback`, secret: EVENTSUB_SECRET });
    expect((await sender.notification('channel.follow', followEvent())).status).toBe(204);
    await eventually(() => app.get(EventSubListener).follows.length === 1);
  }, 60_000);

  it('bounds a chunked body (no Content-Length) by the same timeout', async () => {
    const chunked = requestHead(port, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Twitch-Eventsub-Message-Id': 'another-id',
      'Twitch-Eventsub-Message-Timestamp': new Date().toISOString(),
      'Twitch-Eventsub-Message-Signature': 'sha256=' + 'ab'.repeat(32),
      'Twitch-Eventsub-Message-Type': 'notification',
    });
    // One chunk, then nothing: stalled like the others, closed by the timeout.
    expect(await stalledPost(port, chunked, '10\r\n{"subscription":\r\n')).toEqual({ status: 408, closedByServer: true });
  }, 60_000);
});
