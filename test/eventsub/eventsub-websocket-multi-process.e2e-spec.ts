import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { ensureBuilt } from '../support/build.js';
import { requirePostgres } from '../support/postgres.js';
import { waitFor } from '../support/refresh-scenario.js';
import { startFake } from '../support/secrets-guard.js';
import { followEventFor } from './eventsub-support.js';
import { WebSocketProcess, type WebSocketProcessConfig } from '../support/websocket-process.js';

const postgres = await requirePostgres('EventSub WebSocket users shared by two processes on Postgres');
const describeWithPostgres = postgres ? describe : describe.skip;

const USERS = 4;
const LEASE_SECONDS = 5;
/** Generous: Nest processes and a Postgres cluster on a loaded two-core machine. */
const WAIT_MS = 120_000;

describeWithPostgres('EventSub WebSocket users shared by two processes on Postgres', () => {
  let fake: FakeTwitch;
  const processes: WebSocketProcess[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    fake = await startFake({ helixRateLimit: false });
  }, WAIT_MS);
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await fake?.close();
    await postgres?.stop();
  }, WAIT_MS);

  /** FakeTwitch's open sockets carrying the user's subscriptions. */
  const openSocketsOf = (userId: string) => fake.eventSubSessions().filter((s) => s.status !== 'closed' && s.userId === userId);
  const enabledOf = (userId: string) =>
    fake
      .eventSubSubscriptions()
      .filter((s) => s.status === 'enabled' && s.transport.method === 'websocket' && s.condition.broadcaster_user_id === userId);

  it(
    "opens each user's sockets in one process only, and after a SIGKILL the other takes the users over once their leases lapse",
    async () => {
      const config: WebSocketProcessConfig = {
        databaseUrl: postgres!.url,
        clientId: fake.clientId,
        clientSecret: fake.clientSecret!,
        idBaseUrl: fake.idBaseUrl,
        helixBaseUrl: fake.helixBaseUrl,
        webSocketUrl: fake.eventSubWebSocketUrl,
        webSocket: { keepaliveTimeoutSeconds: 30, leaseSeconds: LEASE_SECONDS, renewSeconds: 1 },
      };
      // Both boot at once on an empty database.
      processes.push(...(await Promise.all([0, 1].map((i) => WebSocketProcess.start(`p${i}`, config, WAIT_MS)))));
      const [p0, p1] = processes as [WebSocketProcess, WebSocketProcess];
      const users: string[] = [];
      for (let i = 0; i < USERS; i++) {
        const { userId } = fake.addUser();
        const issued = fake.issueToken({ userId, scopes: ['moderator:read:followers'] });
        await p0.addUser(issued.accessToken, issued.refreshToken);
        // Half asked for on each process: wherever it was asked, one process creates it.
        await (i % 2 ? p1 : p0).subscribe('channel.follow', '2', { broadcaster_user_id: userId, moderator_user_id: userId }, userId);
        users.push(userId);
      }

      /** Every user held by exactly one live process with one socket at FakeTwitch, each process within its share. */
      const settled = async (live: WebSocketProcess[]) => {
        const statuses = await Promise.all(live.map((p) => p.status()));
        const held = statuses.flatMap((s) => s.usersHeld).sort();
        const share = Math.ceil(USERS / live.length);
        return (
          held.join() === [...users].sort().join() &&
          statuses.every((s) => s.usersHeld.length <= share) &&
          users.every((userId) => openSocketsOf(userId).length === 1 && enabledOf(userId).length === 1)
        );
      };
      await waitFor('each user held by one process, two each', () => settled([p0, p1]), WAIT_MS);

      const published: string[] = [];
      const publishAll = async () => {
        for (const userId of users)
          published.push(
            ...(await fake.publishEventSub('channel.follow', '2', followEventFor(userId), { condition: { broadcaster_user_id: userId } }))
              .messageIds,
          );
      };
      const dispatched = () => processes.flatMap((p) => p.dispatched.map((d) => d.messageId));
      await publishAll();
      expect(published).toHaveLength(USERS);
      await waitFor('every notification dispatched', () => dispatched().length >= published.length, WAIT_MS);

      // SIGKILL p1: its users stay without sockets until their leases lapse, then p0 takes them.
      const victimUsers = (await p1.status()).usersHeld;
      expect(victimUsers.length).toBeGreaterThan(0);
      const killedAt = Date.now();
      await p1.kill();
      await waitFor("FakeTwitch saw the victim's sockets close", () => victimUsers.every((u) => enabledOf(u).length === 0), WAIT_MS);
      await waitFor("the victim's users taken over by the survivor", () => settled([p0]), WAIT_MS);
      const takeoverMs = Date.now() - killedAt;
      const survivorSockets = (await p0.status()).sockets;
      for (const userId of users) {
        expect(survivorSockets[userId]).toHaveLength(1);
        expect(openSocketsOf(userId).map((s) => s.sessionId)).toEqual(survivorSockets[userId]);
      }

      const before = p0.dispatched.length;
      await publishAll();
      await waitFor('the survivor dispatched the notifications of every user', () => p0.dispatched.length >= before + USERS, WAIT_MS);
      expect(new Set(p0.dispatched.slice(before).map((d) => d.userId))).toEqual(new Set(users));

      const counts = new Map<string, number>();
      for (const id of dispatched()) counts.set(id, (counts.get(id) ?? 0) + 1);
      console.info(
        `${USERS} users over 2 processes: take-over after SIGKILL ${(takeoverMs / 1000).toFixed(1)} s ` +
          `(lease ${LEASE_SECONDS} s, renew 1 s; ${victimUsers.length} user(s) moved)`,
      );
      expect(published.filter((id) => !counts.has(id))).toEqual([]);
      expect([...counts].filter(([, count]) => count > 1)).toEqual([]);
    },
    WAIT_MS * 4,
  );
});
