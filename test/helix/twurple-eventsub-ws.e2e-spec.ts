import { ApiClient } from '@twurple/api';
import type { EventSubChannelChatMessageEvent, EventSubChannelFollowEvent } from '@twurple/eventsub-base';
import { EventSubWsListener } from '@twurple/eventsub-ws';
import { TwitchAuthProvider } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { startFake } from '../support/secrets-guard.js';
import { waitFor } from '../eventsub/eventsub-ws-client.js';

const SUBSCRIPTIONS = '/helix/eventsub/subscriptions';
const TWITCH_HELIX = 'https://api.twitch.tv/helix/';
const realFetch = globalThis.fetch;

/** twurple always calls api.twitch.tv through the global `fetch`; its calls go to FakeTwitch instead. */
function routeHelixTo(fake: FakeTwitch): void {
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return realFetch(url.startsWith(TWITCH_HELIX) ? `${fake.helixBaseUrl}/${url.slice(TWITCH_HELIX.length)}` : input, init);
  };
}

/**
 * twurple remembers every message id for 10 minutes on a timer it never
 * clears, which would keep the test process alive after the suite; those
 * timers are unref'd while the listener runs.
 */
function unrefTenMinuteTimers(): () => void {
  const original = globalThis.setTimeout;
  const patched = (handler: () => void, delay?: number, ...args: unknown[]): NodeJS.Timeout => {
    const timer = (original as (...all: unknown[]) => NodeJS.Timeout)(handler, delay, ...args);
    if ((delay ?? 0) >= 600_000) timer.unref();
    return timer;
  };
  globalThis.setTimeout = patched as typeof setTimeout;
  return () => {
    globalThis.setTimeout = original;
  };
}

const FOLLOW = {
  user_id: '5100',
  user_login: 'new_follower',
  user_name: 'New_Follower',
  broadcaster_user_id: '5001',
  broadcaster_user_login: 'streamer',
  broadcaster_user_name: 'Streamer',
  followed_at: '2026-12-01T23:23:11.833102491Z',
};

const CHAT = {
  broadcaster_user_id: '5002',
  broadcaster_user_login: 'other_channel',
  broadcaster_user_name: 'Other_Channel',
  chatter_user_id: '5001',
  chatter_user_login: 'streamer',
  chatter_user_name: 'Streamer',
  message_id: 'chat-1',
  message: {
    text: 'hello from the fake',
    fragments: [{ type: 'text', text: 'hello from the fake', cheermote: null, emote: null, mention: null }],
  },
  message_type: 'text',
  badges: [],
  cheer: null,
  color: '',
  reply: null,
  channel_points_custom_reward_id: null,
};

/**
 * twurple's real `EventSubWsListener`, on an `ApiClient` built on this
 * module's `TwitchAuthProvider`, against FakeTwitch's EventSub WebSocket:
 * subscriptions are created with the stored user token, notifications reach
 * twurple's handlers, and a token that expires mid-way is refreshed through
 * the module's refresher.
 */
describe('twurple EventSubWsListener with TwitchAuthProvider', () => {
  let fake: FakeTwitch;
  let t: TestApp;
  let listener: EventSubWsListener;
  let restoreTimers: () => void;

  beforeAll(async () => {
    fake = await startFake({ eventSubWelcomeTimeoutMs: 60_000 });
    t = await createTestApp({ fake });
    routeHelixTo(fake);
    restoreTimers = unrefTenMinuteTimers();
  });
  afterAll(async () => {
    listener?.stop();
    // twurple's socket goes first, cleanly; FakeTwitch cutting it instead would make twurple schedule a reconnect.
    await waitFor(() => fake.eventSubSessions().every((session) => session.status === 'closed'));
    globalThis.fetch = realFetch;
    restoreTimers();
    await t.close();
    await fake.close();
  });

  it('subscribes with the stored user token, receives notifications, and refreshes an expired token once', async () => {
    const scopes = ['moderator:read:followers', 'user:read:chat'];
    const issued = fake.issueToken({ userId: '5001', scopes });
    await t.tokens.addToken('5001', issued.accessToken, issued.refreshToken, scopes);
    const api = new ApiClient({ authProvider: t.app.get(TwitchAuthProvider), logger: { minLevel: 'critical' } });
    listener = new EventSubWsListener({ apiClient: api, url: fake.eventSubWebSocketUrl, logger: { minLevel: 'critical' } });

    const follows: EventSubChannelFollowEvent[] = [];
    listener.onChannelFollow('5001', '5001', (event) => follows.push(event));
    listener.start();
    await waitFor(() => fake.eventSubSubscriptions().some((subscription) => subscription.status === 'enabled'));

    const [session] = fake.eventSubSessions();
    expect(session).toMatchObject({ status: 'connected', userId: '5001' });
    const creates = fake.requests.filter((request) => request.path === SUBSCRIPTIONS && request.method === 'POST');
    expect(creates.map((request) => fake.tokenInfo(request.headers.authorization?.slice(7) ?? '')?.userId)).toEqual(['5001']);
    expect(creates[0].headers.authorization).toBe(`Bearer ${issued.accessToken}`);

    const published = await fake.publishEventSub('channel.follow', '2', FOLLOW, { condition: { broadcaster_user_id: '5001' } });
    expect(published.deliveries).toHaveLength(1);
    await waitFor(() => follows.length === 1);
    expect(follows[0]).toMatchObject({ userId: '5100', userName: 'new_follower', broadcasterId: '5001' });

    // The stored token dies on Twitch's side; twurple's next subscription meets a 401 and asks the provider for a new one.
    fake.expireToken(issued.accessToken);
    fake.clearRequests();
    const messages: EventSubChannelChatMessageEvent[] = [];
    listener.onChannelChatMessage('5002', '5001', (event) => messages.push(event));
    await waitFor(() => fake.eventSubSubscriptions().filter((subscription) => subscription.status === 'enabled').length === 2);

    expect(fake.countRequests({ path: '/oauth2/token', grantType: 'refresh_token' })).toBe(1);
    expect(fake.reusedRefreshTokens).toHaveLength(0);
    const stored = await t.tokens.getUserToken('5001');
    expect(stored.accessToken).not.toBe(issued.accessToken);
    const lastCreate = fake.requests.filter((request) => request.path === SUBSCRIPTIONS && request.method === 'POST').at(-1)!;
    expect(lastCreate.headers.authorization).toBe(`Bearer ${stored.accessToken}`);
    expect(lastCreate.status).toBe(202);

    await fake.publishEventSub('channel.chat.message', '1', CHAT);
    await waitFor(() => messages.length === 1);
    expect(messages[0]).toMatchObject({ messageText: 'hello from the fake', chatterId: '5001', broadcasterId: '5002' });
    // Both subscriptions share the one socket twurple opened for this user.
    expect(fake.eventSubSessions()).toHaveLength(1);
  });
});
