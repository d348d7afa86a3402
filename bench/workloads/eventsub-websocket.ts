/**
 * B6: EventSub notifications over one WebSocket, from FakeTwitch in its own
 * process to a listener in this one. Three contenders are connected at once,
 * each subscribed to `channel.follow` for its own broadcaster, so a burst
 * reaches exactly one of them: ours (a Nest app with this module, the
 * subscription made through `EventSubService`, counted by an
 * `@OnEvent('twitch.eventsub.channel.follow')` listener: parse, de-duplicate
 * through the ClaimStore, typed payload, Nest event), twurple
 * (`EventSubWsListener.onChannelFollow`, typed payload); both listeners read
 * the same five fields of the follow (see `readFollow`); and a bare `ws`
 * client that only parses JSON and counts notifications. A round measures,
 * per contender, from asking FakeTwitch for the burst until the last message
 * is counted: the wall time, and the CPU time this process spent (FakeTwitch
 * sends about as fast as the slowest contender reads, so wall time mostly
 * measures FakeTwitch; CPU time is what receiving cost). Contenders
 * alternate (rotated); one warm-up round is dropped.
 */
import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { ApiClient } from '@twurple/api';
import { StaticAuthProvider } from '@twurple/auth';
import { EventSubWsListener } from '@twurple/eventsub-ws';
import { WebSocket } from 'ws';
import { EventSubService, type ChannelFollowEvent, type EventSubNotification } from '../../src/twitch-auth/index.js';
import { runAsChild, reportProgress } from '../lib/child.js';
import { FakeTwitchProcess } from '../lib/fake-twitch.process-client.js';
import { redirectTwitchToFake } from '../lib/loopback-fetch.js';
import { createOurApp } from '../lib/nest-app.js';
import { rotate } from '../lib/stats.js';

export interface EventSubWebSocketParams {
  messages: number;
  rounds: number;
}

export interface EventSubWebSocketResult {
  /** Notifications per second of this process's CPU time, per contender, one per measured round. */
  samples: Record<string, number[]>;
  /** Notifications per second of wall time, per contender, one per measured round. */
  wallSamples: Record<string, number[]>;
  /** Notifications each contender counted beyond those sent (duplicates), over every round. */
  extra: Record<string, number>;
}

const SCOPES = ['moderator:read:followers'];
/** One broadcaster (and token) per contender: a burst for one reaches no other. */
const USERS = { ours: '6001', twurple: '6002', bare: '6003' } as const;
type Contender = keyof typeof USERS;

/** Counts notifications and wakes whoever waits for a count. */
class Counter {
  count = 0;
  private target = Infinity;
  private reached: (() => void) | null = null;

  add(): void {
    if (++this.count >= this.target && this.reached) {
      const reached = this.reached;
      this.reached = null;
      reached();
    }
  }

  until(target: number): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    this.target = target;
    return new Promise((resolve) => (this.reached = resolve));
  }
}

const counters: Record<Contender, Counter> = { ours: new Counter(), twurple: new Counter(), bare: new Counter() };

/**
 * What a listener does with a follow: the typed listeners read the same five
 * fields, so twurple's lazily read event (fields are read from the JSON on
 * access, the date parsed then) does the same work as ours (converted before
 * the listener runs). A listener that never looks at its event would measure
 * only the laziness.
 */
function readFollow(userId: string, login: string, displayName: string, broadcasterId: string, followedAt: Date): void {
  if (userId.length + login.length + displayName.length + broadcasterId.length === 0 || Number.isNaN(followedAt.getTime())) {
    throw new Error('B6: a follow without its fields');
  }
}

/** The user's `@OnEvent` listener in ours. */
@Injectable()
class FollowListener {
  @OnEvent('twitch.eventsub.channel.follow')
  onFollow(payload: EventSubNotification<ChannelFollowEvent>): void {
    const e = payload.event;
    readFollow(e.userId, e.userLogin, e.userName, e.broadcasterUserId, e.followedAt);
    counters.ours.add();
  }
}

function followEvent(broadcaster: string): Record<string, unknown> {
  return {
    user_id: '777',
    user_login: 'follower',
    user_name: 'Follower',
    broadcaster_user_id: broadcaster,
    broadcaster_user_login: 'caster',
    broadcaster_user_name: 'Caster',
    followed_at: '2026-12-01T23:23:11.833102491Z',
  };
}

/** The bare client: a socket, one subscription made with fetch, JSON.parse and a count. */
async function connectBare(fake: FakeTwitchProcess, bareFetch: typeof fetch, accessToken: string): Promise<WebSocket> {
  const socket = new WebSocket(fake.eventSubWebSocketUrl, { perMessageDeflate: false });
  const sessionId = await new Promise<string>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { metadata: { message_type: string }; payload: { session?: { id: string } } };
      if (message.metadata.message_type === 'notification') counters.bare.add();
      else if (message.metadata.message_type === 'session_welcome') resolve(message.payload.session!.id);
    });
  });
  const response = await bareFetch(`${fake.url}/helix/eventsub/subscriptions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${accessToken}`, 'Client-Id': fake.clientId, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      type: 'channel.follow',
      version: '2',
      condition: { broadcaster_user_id: USERS.bare, moderator_user_id: USERS.bare },
      transport: { method: 'websocket', session_id: sessionId },
    }),
  });
  if (response.status !== 202) throw new Error(`bare subscription: status ${response.status}`);
  return socket;
}

async function main(params: EventSubWebSocketParams): Promise<EventSubWebSocketResult> {
  const fake = await FakeTwitchProcess.start({ latencyMs: 0, helixRateLimit: false });
  const bareFetch = globalThis.fetch;
  redirectTwitchToFake(fake.url);
  const issued = await fake.issue(Object.values(USERS), SCOPES, 0);
  const token = (user: string) => issued.find((pair) => pair.userId === user)!;

  const ours = await createOurApp({
    idBaseUrl: fake.url,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    providers: [FollowListener],
    options: {
      twitch: {
        idBaseUrl: fake.url,
        helixBaseUrl: `${fake.url}/helix`,
        timeoutMs: 30_000,
        eventSubWebSocketUrl: fake.eventSubWebSocketUrl,
      },
    },
  });
  await ours.tokens.addToken(USERS.ours, token(USERS.ours).accessToken, token(USERS.ours).refreshToken, SCOPES);
  const condition = { broadcaster_user_id: USERS.ours, moderator_user_id: USERS.ours };
  await ours.app.get(EventSubService).subscribe('channel.follow', '2', condition, { transport: 'websocket', userId: USERS.ours });

  const apiClient = new ApiClient({
    authProvider: new StaticAuthProvider(fake.clientId, token(USERS.twurple).accessToken, SCOPES),
    logger: { minLevel: 'critical' },
  });
  const twurple = new EventSubWsListener({ apiClient, url: fake.eventSubWebSocketUrl, logger: { minLevel: 'critical' } });
  const twurpleReady = new Promise<void>((resolve, reject) => {
    const subscription = twurple.onChannelFollow(USERS.twurple, USERS.twurple, (e) => {
      readFollow(e.userId, e.userName, e.userDisplayName, e.broadcasterId, e.followDate);
      counters.twurple.add();
    });
    twurple.onSubscriptionCreateSuccess((created) => created === subscription && resolve());
    twurple.onSubscriptionCreateFailure((failed, error) => failed === subscription && reject(error));
  });
  twurple.start();
  await twurpleReady;

  const bare = await connectBare(fake, bareFetch, token(USERS.bare).accessToken);

  const samples: Record<string, number[]> = { ours: [], twurple: [], bare: [] };
  const wallSamples: Record<string, number[]> = { ours: [], twurple: [], bare: [] };
  for (let round = 0; round <= params.rounds; round++) {
    for (const name of rotate(Object.keys(USERS) as Contender[], round)) {
      const counter = counters[name];
      const target = counter.count + params.messages;
      const user = USERS[name];
      const started = process.hrtime.bigint();
      const cpuBefore = process.cpuUsage();
      await Promise.all([
        fake.publishEventSub('channel.follow', '2', followEvent(user), { broadcaster_user_id: user }, params.messages),
        counter.until(target),
      ]);
      const cpu = process.cpuUsage(cpuBefore);
      const rate = params.messages / ((cpu.user + cpu.system) / 1e6);
      const wallRate = params.messages / (Number(process.hrtime.bigint() - started) / 1e9);
      if (round > 0) {
        samples[name].push(rate);
        wallSamples[name].push(wallRate);
      }
      reportProgress(
        `B6 round ${round}${round === 0 ? ' (warm-up)' : ''}: ${name} ${Math.round(rate)} notifications per CPU second, ${Math.round(wallRate)}/s wall`,
      );
    }
  }
  // Anything still arriving would be a duplicate: give the sockets a moment to drain before counting.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const sent = params.messages * (params.rounds + 1);
  const extra = Object.fromEntries((Object.keys(USERS) as Contender[]).map((name) => [name, counters[name].count - sent]));

  bare.terminate();
  twurple.stop();
  await ours.close();
  await fake.close();
  return { samples, wallSamples, extra };
}

runAsChild(main);
