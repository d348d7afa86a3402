import type { EventSubConduitStatus } from '../../src/twitch-auth/index.js';
import type { FakeTwitch } from '../../src/twitch-auth/testing/index.js';
import { ensureBuilt } from '../support/build.js';
import { ConduitProcess, type ConduitProcessConfig } from '../support/conduit-process.js';
import { requirePostgres } from '../support/postgres.js';
import { waitFor } from '../support/refresh-scenario.js';
import { startFake } from '../support/secrets-guard.js';

const postgres = await requirePostgres('EventSub conduit shared by four processes on Postgres');
const describeWithPostgres = postgres ? describe : describe.skip;

const SHARDS = 8;
const PROCESSES = 4;
const LEASE_SECONDS = 5;
/** Generous: four Nest processes and a Postgres cluster on a loaded two-core machine. */
const WAIT_MS = 120_000;
const FOLLOW = {
  user_id: '1',
  user_login: 'a',
  user_name: 'A',
  broadcaster_user_id: '42',
  broadcaster_user_login: 'b',
  broadcaster_user_name: 'B',
  followed_at: '2026-12-02T00:00:00Z',
};

/** Publishes one `channel.follow` after another until stopped; `pause()` returns once no publish is in flight. */
function startStream(fake: FakeTwitch) {
  const published: string[] = [];
  let paused = false;
  let stopped = false;
  let idle: () => void = () => undefined;
  const loop = (async () => {
    while (!stopped) {
      if (paused) {
        idle();
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      published.push(...(await fake.publishEventSub('channel.follow', '2', FOLLOW)).messageIds);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
  })();
  return {
    published,
    pause: () => new Promise<void>((resolve) => ((idle = resolve), (paused = true))),
    resume: () => void (paused = false),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describeWithPostgres('EventSub conduit shared by four processes on Postgres', () => {
  let fake: FakeTwitch;
  const processes: ConduitProcess[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    fake = await startFake({ eventSubWelcomeTimeoutMs: 60_000 });
  }, WAIT_MS);
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await fake?.close();
    await postgres?.stop();
  }, WAIT_MS);

  it(
    'dispatches every notification exactly once across the processes through a SIGKILL and a restart, and ends evenly spread',
    async () => {
      const config: ConduitProcessConfig = {
        databaseUrl: postgres!.url,
        clientId: fake.clientId,
        clientSecret: fake.clientSecret!,
        idBaseUrl: fake.idBaseUrl,
        helixBaseUrl: fake.helixBaseUrl,
        webSocketUrl: fake.eventSubWebSocketUrl,
        conduit: { shardCount: SHARDS, leaseSeconds: LEASE_SECONDS, renewSeconds: 1 },
      };
      // All four boot at once: one conduit must come out of it, not four.
      processes.push(...(await Promise.all(Array.from({ length: PROCESSES }, (_, i) => ConduitProcess.start(`p${i}`, config, WAIT_MS)))));
      const statuses = (): Promise<EventSubConduitStatus[]> =>
        Promise.all(processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => p.status()));
      const enabled = () => (fake.conduits()[0]?.shards ?? []).filter((shard) => shard.status === 'enabled');
      let lastSeen = '';
      /** Every shard held by exactly one live process and associated, each process within its share plus one. */
      const settled = async (live: number, minimumEach: number) => {
        const all = await statuses();
        lastSeen = JSON.stringify({
          processes: all.map((s) => ({ held: s.shardsHeld, disabled: s.shardsDisabled, instances: s.instances, lastError: s.lastError })),
          twitch: (fake.conduits()[0]?.shards ?? []).map((shard) => shard.status),
        });
        const held = all.flatMap((s) => s.shardsHeld).sort((a, b) => a - b);
        const share = Math.ceil(SHARDS / live);
        return (
          all.length === live &&
          held.join() === Array.from({ length: SHARDS }, (_, i) => i).join() &&
          all.every((s) => s.shardsDisabled.length === 0 && s.shardsHeld.length <= share + 1 && s.shardsHeld.length >= minimumEach) &&
          enabled().length === SHARDS
        );
      };
      /** Waits for `settled`; a timeout says what the processes and FakeTwitch last reported. */
      const settle = (what: string, live: number) =>
        waitFor(what, () => settled(live, 1), WAIT_MS).catch((error: Error) => {
          throw new Error(`${error.message}; last seen: ${lastSeen}`);
        });
      await settle('eight shards spread over four processes', PROCESSES);
      expect(fake.conduits()).toHaveLength(1);

      const appToken = fake.issueAppToken().accessToken;
      const created = await fetch(`${fake.helixBaseUrl}/eventsub/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${appToken}`, 'client-id': fake.clientId, 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'channel.follow',
          version: '2',
          condition: { broadcaster_user_id: '42', moderator_user_id: '42' },
          transport: { method: 'conduit', conduit_id: fake.conduits()[0]!.conduitId },
        }),
      });
      expect(created.status).toBe(202);

      const stream = startStream(fake);
      const dispatched = () => processes.flatMap((p) => p.dispatched);
      // By id, not by count: the processes also dispatch the conduit.shard.disabled notifications the
      // SIGKILL causes, and a count that includes them passes while published messages are still on their way.
      const undispatched = () => {
        const seen = new Set(dispatched());
        return stream.published.filter((id) => !seen.has(id));
      };
      await waitFor('100 notifications published', () => stream.published.length >= 100, WAIT_MS);

      // The kill falls between two messages: a message already written to a socket whose process dies
      // is lost with it (Twitch does not resend over WebSocket); this test is about everything after.
      await stream.pause();
      await waitFor('everything so far dispatched', () => undispatched().length === 0, WAIT_MS);
      const victim = processes[1]!;
      const victimShards = (await victim.status()).shardsHeld;
      const victimSessions = new Set(
        enabled()
          .filter((shard) => victimShards.includes(Number(shard.shardId)))
          .map((shard) => shard.sessionId),
      );
      const killedAt = Date.now();
      await victim.kill();
      await waitFor(
        "FakeTwitch saw the victim's sockets close",
        () => fake.eventSubSessions().every((session) => !victimSessions.has(session.sessionId) || session.status === 'closed'),
        WAIT_MS,
      );
      stream.resume();
      const publishedAtKill = stream.published.length;
      await settle("the victim's shards taken over and associated by the others", PROCESSES - 1);
      const takeoverMs = Date.now() - killedAt;
      const publishedDuringTakeover = stream.published.length - publishedAtKill;

      processes.push(await ConduitProcess.start('p1-restarted', config, WAIT_MS));
      await settle('shards spread again over four processes', PROCESSES);
      const finalSpread = (await statuses()).map((s) => s.shardsHeld.length);
      await waitFor(
        'more notifications after the restart',
        () => stream.published.length >= publishedAtKill + publishedDuringTakeover + 50,
        WAIT_MS,
      );
      await stream.stop();
      // A message that never comes is reported with its id by the assertions below, not as a timeout.
      await waitFor('every published notification dispatched', () => undispatched().length === 0, WAIT_MS).catch(() => undefined);

      const counts = new Map<string, number>();
      for (const id of dispatched()) counts.set(id, (counts.get(id) ?? 0) + 1);
      const missing = stream.published.filter((id) => !counts.has(id));
      const twice = [...counts].filter(([, count]) => count > 1);
      console.info(
        `conduit of ${SHARDS} shards over ${PROCESSES} processes: ${stream.published.length} notifications published, ` +
          `${publishedDuringTakeover} of them while the victim's shards were taken over; takeover after SIGKILL ${(takeoverMs / 1000).toFixed(1)} s ` +
          `(lease ${LEASE_SECONDS} s; target lease + 10 s = ${LEASE_SECONDS + 10} s); final spread ${finalSpread.join(', ')}`,
      );
      expect(missing).toEqual([]);
      expect(twice).toEqual([]);
      expect(new Set(stream.published).size).toBe(stream.published.length);
      expect(publishedDuringTakeover).toBeGreaterThan(0);
      expect(Math.max(...finalSpread)).toBeLessThanOrEqual(Math.ceil(SHARDS / PROCESSES) + 1);
      expect(finalSpread.reduce((a, b) => a + b, 0)).toBe(SHARDS);
    },
    WAIT_MS * 4,
  );
});
