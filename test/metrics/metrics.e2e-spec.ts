import type { INestApplication } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { DemoMetrics } from '../../src/demo/demo-metrics.js';
import { MetricsController } from '../../src/demo/metrics.controller.js';
import { OPENTELEMETRY_API_LOADER, type OpenTelemetryApiLoader } from '../../src/twitch-auth/metrics/opentelemetry-loader.js';
import { EventSubService, TokenService, TwitchApiClient, TwitchAuthModule } from '../../src/twitch-auth/index.js';
import { EventSubSender, type FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, fakeOptions, secondsAgo, type TestApp } from '../support/app.js';
import { captureLogger } from '../support/log-capture.js';
import { caught, startFake } from '../support/secrets-guard.js';
import { EVENTSUB_SECRET, EventSubListener, followEvent } from '../eventsub/eventsub-support.js';

/** One sample line of Prometheus' text format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
  return matching.length === 0 ? undefined : matching.reduce((sum, s) => sum + s.value, 0);
}

const USERS = 1_000;
const UNIQUE_MESSAGES = 85;
const DUPLICATES = 10;
const BAD_SIGNATURES = 5;
const DEAD_GRANTS = 3;
const VALIDATED = 5;
const REVOKED = 2;

describe('metrics through OpenTelemetry, scraped from /metrics', () => {
  let fake: FakeTwitch;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFake();
    // As in the demo: the SDK is registered before the app, whose module takes its meter when it starts.
    const metrics = DemoMetrics.register();
    t = await createTestApp({
      fake,
      listen: true,
      options: {
        twitch: {
          idBaseUrl: fake.idBaseUrl,
          helixBaseUrl: fake.helixBaseUrl,
          eventSubWebSocketUrl: fake.eventSubWebSocketUrl,
          timeoutMs: 10_000,
        },
        eventSub: { secret: EVENTSUB_SECRET, mount: 'direct' },
      },
      providers: [EventSubListener, { provide: DemoMetrics, useValue: metrics }],
      controllers: [MetricsController],
    });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  async function scrape(): Promise<Sample[]> {
    const response = await fetch(`${t.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return parsePrometheus(await response.text());
  }

  it('counts a refresh storm, EventSub outcomes, Helix requests and dead grants as FakeTwitch and the receiver saw them', async () => {
    // A storm: 1,000 users whose tokens expired, each read by three callers at once.
    const users = Array.from({ length: USERS }, (_, i) => String(70_000 + i));
    for (const userId of users) {
      const issued = fake.issueToken({ userId, scopes: ['chat:read'] });
      await t.tokens.addToken(userId, issued.accessToken, issued.refreshToken, ['chat:read'], { expiresAt: secondsAgo(5) });
    }
    fake.clearRequests();
    await Promise.all(users.flatMap((userId) => [1, 2, 3].map(() => t.tokens.getAccessToken(userId))));
    // Cached reads record nothing: these must not show anywhere.
    await Promise.all(users.map((userId) => t.tokens.getAccessToken(userId)));

    // Grants Twitch no longer honours: their refreshes fail for good, and their users must authorize again.
    for (const userId of users.slice(0, DEAD_GRANTS)) {
      fake.revokeUser(userId);
      expect((await caught(t.tokens.refresh(userId))).name).toBe('ReauthorizationRequiredError');
    }
    const refreshRequests = fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' });

    // Validations of live tokens, and revocations (which also remove the users).
    for (const userId of users.slice(DEAD_GRANTS, DEAD_GRANTS + VALIDATED)) await t.tokens.validate(userId);
    for (const userId of users.slice(-REVOKED)) await t.tokens.revoke(userId);

    // 100 EventSub messages: 85 first deliveries, 10 of them delivered again, 5 signed with another secret.
    const listener = t.app.get(EventSubListener);
    const sender = new EventSubSender({ callbackUrl: `${t.url}/eventsub/callback`, secret: EVENTSUB_SECRET });
    const answers: number[] = [];
    const firstIds: string[] = [];
    for (let i = 0; i < UNIQUE_MESSAGES; i++) {
      const sent = await sender.notification('channel.follow', followEvent(String(i + 1)), { version: '2' });
      answers.push(sent.status);
      firstIds.push(sent.messageId);
    }
    for (const messageId of firstIds.slice(0, DUPLICATES)) {
      answers.push((await sender.notification('channel.follow', followEvent(), { version: '2', messageId, retry: 1 })).status);
    }
    for (let i = 0; i < BAD_SIGNATURES; i++) {
      const forged = await sender.notification('channel.follow', followEvent(), { version: '2', secret: 'not-the-eventsub-secret-42' });
      answers.push(forged.status);
    }
    // Dispatch runs after each answer went out.
    for (let wait = 0; listener.notifications.length < UNIQUE_MESSAGES && wait < 600; wait++) await new Promise((r) => setTimeout(r, 50));

    // Helix: one call meets a 429 and is sent again.
    fake.failNext('helix', 1, 429);
    await t.app.get(TwitchApiClient).getUsers({ ids: ['70000'] });
    const helixRequests = fake.countRequests({ path: '/helix/users' });

    const samples = await scrape();
    const refreshes = (outcome: string) => valueOf(samples, 'twitch_auth_token_refreshes_total', { outcome }) ?? 0;
    const messages = (outcome: string) => valueOf(samples, 'twitch_auth_eventsub_messages_total', { transport: 'webhook', outcome }) ?? 0;

    expect(refreshRequests).toBe(USERS + DEAD_GRANTS);
    expect(refreshes('success')).toBe(USERS);
    expect(refreshes('permanent_failure')).toBe(DEAD_GRANTS);
    expect(refreshes('transient_failure')).toBe(0);
    expect(refreshes('success') + refreshes('permanent_failure')).toBe(refreshRequests);
    expect(valueOf(samples, 'twitch_auth_token_refresh_duration_count')).toBe(refreshRequests);

    expect(answers.filter((status) => status === 204)).toHaveLength(UNIQUE_MESSAGES + DUPLICATES);
    expect(answers.filter((status) => status === 403)).toHaveLength(BAD_SIGNATURES);
    expect(listener.notifications).toHaveLength(UNIQUE_MESSAGES);
    expect(messages('dispatched')).toBe(listener.notifications.length);
    expect(messages('duplicate')).toBe(DUPLICATES);
    expect(messages('bad_signature')).toBe(answers.filter((status) => status === 403).length);
    expect(valueOf(samples, 'twitch_auth_eventsub_messages_total')).toBe(answers.length);

    expect(fake.countRequests({ path: '/oauth2/validate' })).toBe(VALIDATED);
    expect(valueOf(samples, 'twitch_auth_token_validations_total', { outcome: 'valid' })).toBe(VALIDATED);
    expect(valueOf(samples, 'twitch_auth_token_validations_total')).toBe(VALIDATED);
    expect(fake.countRequests({ path: '/oauth2/revoke' })).toBe(REVOKED);
    expect(valueOf(samples, 'twitch_auth_token_revocations_total', { outcome: 'success' })).toBe(REVOKED);
    // One instance, each user's work queued in this process: nobody waited for another instance's lease.
    expect(valueOf(samples, 'twitch_auth_lease_waits_total') ?? 0).toBe(0);

    expect(helixRequests).toBe(2);
    expect(valueOf(samples, 'twitch_auth_helix_requests_total', { status_class: '4xx', rate_limited: 'true' })).toBe(1);
    expect(valueOf(samples, 'twitch_auth_helix_requests_total', { status_class: '2xx', rate_limited: 'false' })).toBe(1);
    expect(valueOf(samples, 'twitch_auth_helix_request_duration_count')).toBe(helixRequests);

    // The gauges: users who must authorize again, and nothing overdue after the storm.
    expect(valueOf(samples, 'twitch_auth_tokens', { status: 'reauth_required' })).toBe(DEAD_GRANTS);
    expect(valueOf(samples, 'twitch_auth_maintenance_backlog', { kind: 'refresh' })).toBe(0);
    expect(valueOf(samples, 'twitch_auth_maintenance_backlog', { kind: 'validation' })).toBe(0);
  });

  it('counts EventSub messages that came over a WebSocket under their own transport', async () => {
    const issued = fake.issueToken({ userId: '79101', scopes: ['moderator:read:followers'] });
    await t.tokens.addUser(issued.accessToken, issued.refreshToken);
    const condition = { broadcaster_user_id: '79101', moderator_user_id: '79101' };
    await t.app.get(EventSubService).subscribe('channel.follow', '2', condition, { transport: 'websocket', userId: '79101' });
    const listener = t.app.get(EventSubListener);
    const before = listener.notifications.length;
    const event = { ...followEvent('5'), broadcaster_user_id: '79101' };
    for (let i = 0; i < 3; i++) await fake.publishEventSub('channel.follow', '2', event);
    await fake.publishEventSub('channel.follow', '2', event, { messageId: 'sent-twice' });
    const { messageIds } = await fake.publishEventSub('channel.follow', '2', event, { messageId: 'sent-twice' });
    expect(messageIds).toEqual(['sent-twice']);
    for (let wait = 0; listener.notifications.length < before + 4 && wait < 600; wait++) await new Promise((r) => setTimeout(r, 50));
    // The repeat is the last message on the socket, which delivers in order: once it is counted, all were.
    let samples = await scrape();
    const websocket = (outcome: string) =>
      valueOf(samples, 'twitch_auth_eventsub_messages_total', { transport: 'websocket', outcome }) ?? 0;
    for (let wait = 0; websocket('duplicate') === 0 && wait < 600; wait++) {
      await new Promise((r) => setTimeout(r, 50));
      samples = await scrape();
    }

    expect(listener.notifications.length - before).toBe(4);
    expect(websocket('dispatched')).toBe(4);
    expect(websocket('duplicate')).toBe(1);
  });

  it("counts a refresh that waits for another instance's lease once", async () => {
    const issued = fake.issueToken({ userId: '79001', scopes: ['chat:read'] });
    await t.tokens.addToken('79001', issued.accessToken, issued.refreshToken, ['chat:read'], { expiresAt: secondsAgo(5) });
    const waitsBefore = valueOf(await scrape(), 'twitch_auth_lease_waits_total') ?? 0;
    // Another instance holds the user's lease: the refresh waits, polling, until it is released.
    expect(await t.repository.acquireLease('79001', 'another-instance', Date.now() + 60_000, 0)).not.toBeNull();
    const refreshing = t.tokens.getAccessToken('79001');
    let waits = waitsBefore;
    for (let attempt = 0; waits === waitsBefore && attempt < 600; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      waits = valueOf(await scrape(), 'twitch_auth_lease_waits_total') ?? 0;
    }
    await t.repository.releaseLease('79001', 'another-instance');

    expect(await refreshing).not.toBe(issued.accessToken);
    expect(waits - waitsBefore).toBe(1);
    expect((valueOf(await scrape(), 'twitch_auth_lease_waits_total') ?? 0) - waitsBefore).toBe(1);
  });
});

describe('without @opentelemetry/api', () => {
  let fake: FakeTwitch;
  let app: INestApplication;
  let metrics: DemoMetrics;

  beforeAll(async () => {
    fake = await startFake();
    // An SDK is registered, so anything the module recorded would show; the module itself cannot load the API.
    metrics = DemoMetrics.register();
    const missingApi: OpenTelemetryApiLoader = () => Promise.resolve(null);
    const moduleRef = await Test.createTestingModule({
      imports: [EventEmitterModule.forRoot(), TwitchAuthModule.forRoot(fakeOptions(fake))],
    })
      .overrideProvider(OPENTELEMETRY_API_LOADER)
      .useValue(missingApi)
      .compile();
    app = moduleRef.createNestApplication({ logger: captureLogger });
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await metrics?.shutdown();
    await fake?.close();
  });

  it('boots, refreshes and records nothing', async () => {
    const tokens = app.get(TokenService);
    const issued = fake.issueToken({ userId: '81001', scopes: ['chat:read'] });
    await tokens.addToken('81001', issued.accessToken, issued.refreshToken, ['chat:read'], { expiresAt: secondsAgo(5) });

    const fresh = await tokens.getAccessToken('81001');

    expect(fresh).not.toBe(issued.accessToken);
    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    expect(await metrics.scrape()).not.toContain('twitch_auth');
  });
});
